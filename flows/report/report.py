"""write_report: the published marts as one self-contained HTML file.

`write_report(published, out_dir)` opens the published DuckDB file read-only, reads the marts it
holds (a section whose mart is not published is left out; one published empty says why), and writes
`out_dir/index.html`: inline CSS, the charts' JavaScript inlined once (Vega-Lite through Altair and
vl-convert's bundle), no script, style, font or image from the network. It opens from a file on an
air-gapped laptop and can be mailed.

On top: the run id, the as-of date and the validation status. A published file is only ever
written after every Great Expectations suite passed (flows.pipeline), so a publication is a passed
validation; a release manifest beside the file (`manifest.json`) may say more and is shown when it
does.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.report.charts import Context, Section, build_sections
from flows.report.data import PublishedMarts, column_definitions, release_manifest
from flows.report.numbers import DEFAULT_LOCALE, NumberFormat
from flows.report.statement import STATEMENT_FIGURES, build_statement

TEMPLATES = Path(__file__).resolve().parent / "templates"
REPORT_FOLDER = "report"
REPORT_FILE = "index.html"


@dataclass(frozen=True)
class ValidationStatus:
    label: str
    css: str
    text: str
    reconciliation_note: str


def validation_status(publication_exists: bool, manifest: dict[str, Any], tables: int | None) -> ValidationStatus:
    """What the published file (and a release manifest beside it) records about the validation."""
    recorded = manifest.get("validation") if isinstance(manifest.get("validation"), dict) else {}
    success = recorded.get("success", True if publication_exists else None)
    note = (
        "Before this file was published, Great Expectations reconciled every year's revenue, completed orders and "
        "customers of marts.customer_audit_figures with raw.orders, the books, to the cent (suite "
        "customer_audit_figures_suite); the table above checks the statement against the published orders mart."
    )
    if success is True:
        detail = ""
        if recorded.get("suites") is not None:
            detail = f" ({recorded['suites']} suites"
            detail += f", {recorded['expectations']} expectations)" if recorded.get("expectations") is not None else ")"
        text = (
            f"Passed{detail}: every Great Expectations suite passed before the {tables or 'published'} tables were "
            "published; a run whose validation fails publishes nothing and leaves the previous publication in place."
        )
        return ValidationStatus("passed", "passed", text, note)
    if success is False:
        return ValidationStatus("failed", "failed", "The release manifest records a failed validation.", note)
    return ValidationStatus("unknown", "unknown", "The published file records no validation.", note)


def _reporting_settings(manifest_vars: dict[str, Any] | None, publication_vars: dict[str, Any]) -> tuple[str, str]:
    """(locale, currency): the run's --vars over the build's vars (dbt manifest), else the defaults."""
    merged = {**(manifest_vars or {}), **publication_vars}
    return str(merged.get("reporting_locale") or DEFAULT_LOCALE), str(merged.get("reporting_currency") or "EUR")


def _json_for_script(value: Any) -> str:
    """JSON that can sit inside a <script> element."""
    return json.dumps(value, default=str).replace("</", "<\\/")


def _equity_line(marts: PublishedMarts, fmt: NumberFormat) -> str:
    """The customer equity the customer-value marts publish (empty when they do not)."""
    if not marts.has("customer_equity"):
        return ""
    # the sum of every customer's CLV, as the run summary's (flows/summary/headlines/value.py EQUITY_SQL)
    if not marts.has("customer_lifetime_value"):
        return ""
    value = marts.con.sql("select sum(clv) from marts.customer_lifetime_value").fetchall()[0][0]
    return "" if value is None else f"{fmt.money(value)} (sum of marts.customer_lifetime_value.clv)"


def render_report(
    published: Path,
    dbt_manifest: Path | None = None,
    build_vars: dict[str, Any] | None = None,
    locale: str | None = None,
) -> tuple[str, list[Section]]:
    """The report's HTML and its sections. `dbt_manifest` (the build's target/manifest.json) gives the
    definitions; `build_vars` the reporting locale and currency (else the defaults); `locale` wins."""
    import jinja2

    from flows.report.assets import vega_bundle
    from flows.validation.registry import SUITES

    published = Path(published)
    with PublishedMarts(published) as marts:
        publication = marts.publication()
        reporting_locale, currency = _reporting_settings(build_vars, publication.dbt_vars)
        fmt = NumberFormat.for_locale(locale or reporting_locale, currency)
        definitions = column_definitions(dbt_manifest)
        ctx = Context(marts, fmt, definitions, {mart: suite.built_from for mart, suite in SUITES.items()})
        statement = build_statement(marts, fmt)
        groups = build_sections(ctx)
        as_of = marts.as_of_date()
        churn_window = None
        if marts.has("customer_audit_figures"):
            found = marts.con.sql("select max(churn_window_days) from marts.customer_audit_figures").fetchall()
            churn_window = found[0][0]
        equity = _equity_line(marts, fmt)
        tables = publication.tables_published
    audit_definitions = definitions.get("customer_audit_figures", {})
    statement_definitions = [(c, audit_definitions[c]) for c, _, _ in STATEMENT_FIGURES if c in audit_definitions]
    charts = {s.chart_id: s.spec for _, sections in groups for s in sections if s.spec and not s.empty_reason}
    import vl_convert as vlc

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    html = environment.get_template("report.html.j2").render(
        as_of=as_of.isoformat() if as_of else "unknown",
        run_id=publication.run_id or "unknown",
        published_at=f"{publication.published_at:%Y-%m-%d %H:%M %Z}".strip() if publication.published_at else "unknown",
        published_name=published.name,
        validation=validation_status(True, release_manifest(published), tables),
        statement=statement,
        statement_definitions=statement_definitions,
        equity=equity,
        churn_window_days=churn_window if churn_window is not None else "–",
        currency=currency,
        locale=fmt.locale,
        fmt=fmt,
        groups=groups,
        charts=charts,
        charts_json=jinja2.utils.markupsafe.Markup(_json_for_script(charts)),
        format_locale_json=jinja2.utils.markupsafe.Markup(_json_for_script(fmt.vega_locale())),
        time_locale_json=jinja2.utils.markupsafe.Markup(_json_for_script(_time_locale(vlc, fmt.locale))),
        vega_bundle=jinja2.utils.markupsafe.Markup(vega_bundle().replace("</script", "<\\/script")) if charts else "",
    )
    return html, [s for _, sections in groups for s in sections]


def _time_locale(vlc: Any, locale: str) -> dict[str, Any]:
    try:
        return vlc.get_time_format_locale(locale)
    except ValueError:
        return vlc.get_time_format_locale("en-US")


def write_report(
    published: Path,
    out_dir: Path,
    dbt_manifest: Path | None = None,
    build_vars: dict[str, Any] | None = None,
    locale: str | None = None,
) -> Path:
    """Write `out_dir/index.html` from the published file `published` (see the module docstring);
    the file is replaced atomically. Returns its path."""
    html, _ = render_report(published, dbt_manifest=dbt_manifest, build_vars=build_vars, locale=locale)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / REPORT_FILE
    temporary = out_dir / f".{REPORT_FILE}.{uuid.uuid4().hex[:8]}.tmp"
    try:
        temporary.write_text(html, encoding="utf-8")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def default_report_dir(published: Path) -> Path:
    """Where a run writes the report, and `make report` rewrites it: `report/` in the current release
    (`warehouse/published/report/`), beside the DuckDB file, Parquet folder and manifest it describes;
    `report/` beside the published file when it is no release (a file published by hand)."""
    from flows.release import Layout

    release = Layout.of(Path(published)).current_release()
    return (release if release is not None else Path(published).parent) / REPORT_FOLDER
