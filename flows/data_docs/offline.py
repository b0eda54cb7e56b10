"""Great Expectations Data Docs that render without a network.

GX's page templates load jQuery, Bootstrap, bootstrap-table, Font Awesome, a datepicker and Vega from
CDNs, and the logo from a web bucket: offline the index shows an empty table. `make_offline` rewrites
every page of a built site to load copies shipped with this project (`flows/data_docs/assets/`, the exact
versions GX's templates name, from their npm packages; licences in `assets/licenses/`)
from the site's own `static/vendor/` folder:

- each CDN script or stylesheet GX uses is replaced by its local copy (relative to the page), without
  the `integrity`/`crossorigin` attributes (a browser refuses those on `file://`);
- the dark-mode theme (`bootstrap-prefers-dark.css`, a second full Bootstrap) is dropped: pages use the
  light Bootstrap theme;
- the three Vega scripts are dropped from pages that draw no chart (no `vegaEmbed(` call, every page of
  this project's suites); a page that draws one gets vl-convert's Vega bundle
  (`static/vendor/js/vega-bundle.js`, written only then);
- the GX logo (a web image) is replaced by the site's own `static/images/logo-long-vector.svg` when
  GX shipped it, else removed.

`remote_references` lists what a page would still load from the network (none after `make_offline`:
the browser test checks the same in Chromium).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS_DIR = Path(__file__).resolve().parent / "assets"
VENDOR_DIR = Path("static") / "vendor"
VEGA_BUNDLE = "js/vega-bundle.js"

#: CDN address (as GX's templates write it) -> the local copy under assets/
LOCAL_COPIES = {
    "https://code.jquery.com/jquery-3.7.1.min.js": "js/jquery-3.7.1.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "js/popper-1.12.9.min.js",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "js/bootstrap-4.3.1.min.js",
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "css/bootstrap-4.3.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "js/bootstrap-table-1.19.1.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "css/bootstrap-table-1.19.1.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "js/bootstrap-table-filter-control-1.19.1.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "css/bootstrap-table-filter-control-1.19.0.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "css/bootstrap-table-filter-control-1.19.0.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "js/bootstrap-datepicker-1.9.0.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "css/bootstrap-datepicker-1.9.0.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": "css/fontawesome-6.6.0.min.css",
}
DROPPED_STYLESHEETS = (
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css",
)
VEGA_SCRIPTS = (
    "https://cdn.jsdelivr.net/npm/vega@5",
    "https://cdn.jsdelivr.net/npm/vega-lite@5",
    "https://cdn.jsdelivr.net/npm/vega-embed@6",
)
LOGO = re.compile(r'<img\b[^>]*\bsrc="https://great-expectations-web-assets[^"]*"[^>]*>')
LOCAL_LOGO = Path("static") / "images" / "logo-long-vector.svg"

#: an element that makes the browser fetch its address: script/img src, link href (not <a href>)
_LOADING = re.compile(r'<(?:script|img|iframe|source)\b[^>]*\bsrc="([^"]+)"|<link\b[^>]*\bhref="([^"]+)"', re.I)


def _tag_with(url: str) -> re.Pattern[str]:
    """The whole <script ...></script> or <link ...> element that loads `url`."""
    quoted = re.escape(url)
    return re.compile(rf'<script\b[^>]*\bsrc="{quoted}"[^>]*>\s*</script>|<link\b[^>]*\bhref="{quoted}"[^>]*/?>')


def _relative(page: Path, site: Path, target: Path) -> str:
    return Path(os.path.relpath(site / target, page.parent)).as_posix()


def _local_tag(url: str, local_href: str) -> str:
    if LOCAL_COPIES.get(url, "").endswith(".css"):
        return f'<link rel="stylesheet" href="{local_href}">'
    return f'<script src="{local_href}"></script>'


def rewrite_page(html: str, page: Path, site: Path) -> tuple[str, bool]:
    """The page with local assets; and whether it draws a Vega chart (needs the bundle)."""
    for url, local in LOCAL_COPIES.items():
        href = _relative(page, site, VENDOR_DIR / local)
        html = _tag_with(url).sub(lambda _match, url=url, href=href: _local_tag(url, href), html)
    for url in DROPPED_STYLESHEETS:
        html = _tag_with(url).sub("", html)
    draws_chart = "vegaEmbed(" in html
    bundle = f'<script src="{_relative(page, site, VENDOR_DIR / VEGA_BUNDLE)}"></script>'
    for index, url in enumerate(VEGA_SCRIPTS):
        # one bundle holds all three (in place of the first), or none when nothing is drawn
        html = _tag_with(url).sub(bundle if draws_chart and index == 0 else "", html)
    logo = (
        f'<img src="{_relative(page, site, LOCAL_LOGO)}" alt="Great Expectations">'
        if (site / LOCAL_LOGO).is_file()
        else ""
    )
    html = LOGO.sub(logo, html)
    return html, draws_chart


def remote_references(html: str) -> list[str]:
    """Addresses the page would load from the network (scripts, styles, images; links are not loads)."""
    found = []
    for match in _LOADING.finditer(html):
        url = match.group(1) or match.group(2)
        if re.match(r"(?i)^(https?:)?//", url):
            found.append(url)
    return found


def make_offline(site: Path) -> list[str]:
    """Rewrite every page of the Data Docs site in `site` to load only local files and copy those
    files into `site/static/vendor/`. Returns the remote addresses still referenced, as
    "page: url" (empty when the site renders offline; a new GX template would show up here)."""
    site = Path(site)
    vendor = site / VENDOR_DIR
    shutil.copytree(ASSETS_DIR, vendor, dirs_exist_ok=True, ignore=shutil.ignore_patterns("licenses"))
    needs_bundle = False
    remaining: list[str] = []
    for page in sorted(site.rglob("*.html")):
        html, draws_chart = rewrite_page(page.read_text(encoding="utf-8"), page, site)
        needs_bundle |= draws_chart
        page.write_text(html, encoding="utf-8")
        remaining += [f"{page.relative_to(site)}: {url}" for url in remote_references(html)]
    if needs_bundle:
        from flows.report.assets import vega_bundle

        (vendor / VEGA_BUNDLE).write_text(vega_bundle(), encoding="utf-8")
    return remaining
