"""The JavaScript the report's charts need, to inline: Vega, Vega-Lite and vega-embed in one bundle
from vl-convert-python (what Altair's `save(..., inline=True)` embeds), made once per process."""

from __future__ import annotations

from functools import cache


@cache
def vega_bundle() -> str:
    """vega-embed with Vega and the Vega-Lite version Altair writes, as one classic script that
    defines `vegaEmbed`, `vega` and `vegaLite` (about 0.9 MB; building it takes seconds)."""
    import vl_convert as vlc
    from altair.utils._importers import vl_version_for_vl_convert

    return vlc.javascript_bundle(vl_version=vl_version_for_vl_convert())
