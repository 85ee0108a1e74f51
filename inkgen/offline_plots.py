"""`dvc plots show` without a network: a page template for dvc-render with Vega, Vega-Lite and vega-embed inlined.

dvc-render's default page loads the three libraries from a CDN (``VegaRenderer.SCRIPTS``), so offline the
page is blank. DVC takes a page template from ``plots.html_template`` in ``.dvc/config`` (a path relative to
``.dvc/``); the template needs a ``{plot_divs}`` placeholder and may omit ``{scripts}`` (then no CDN tag is
written). The libraries come from the PyPI package ``vl-convert-python`` (Altair's converter), whose
:func:`vl_convert.javascript_bundle` returns them bundled as one ES module, from files shipped inside the
package: nothing is downloaded.

Each plot div dvc-render writes runs ``vegaEmbed('#id', spec)`` in a classic inline script, while a module
script runs only after the page is parsed; so the template defines a stand-in ``vegaEmbed`` that queues the
calls, and the module replays them with the real one.
"""

from __future__ import annotations

from pathlib import Path

VEGA_LITE = "5.8"  # DVC's plot templates are Vega-Lite v5 specs

PAGE = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>inkgen: DVC plots (offline)</title>
<script>
  window.inkgenPlotQueue = [];
  window.vegaEmbed = function () { window.inkgenPlotQueue.push(arguments); return Promise.resolve(); };
</script>
<script type="module">
@BUNDLE@
</script>
<style>
  body { font-family: sans-serif; }
  table { border-spacing: 15px; }
</style>
</head>
<body>
{plot_divs}
</body>
</html>
"""

REPLAY = ("const queued = window.inkgenPlotQueue || []; window.vegaEmbed = vegaEmbed;"
          "for (const args of queued) { vegaEmbed(...args); }")


def template() -> str:
    """The page template with the bundled libraries inlined (about 1 MB)."""
    import vl_convert  # a large native module, loaded only when the template is built

    bundle = vl_convert.javascript_bundle(REPLAY, vl_version=VEGA_LITE)
    for placeholder in ("{plot_divs}", "{scripts}", "{refresh_tag}"):
        if placeholder in bundle:  # dvc-render substitutes these wherever they appear
            raise RuntimeError(f"the bundled JavaScript contains {placeholder!r}; dvc-render would rewrite it")
    return PAGE.replace("@BUNDLE@", bundle.replace("</script", "<\\/script"))


def write_template(path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template(), encoding="utf-8")
    return path
