"""Draw each position's resting posture (side view) to ``docs/positions/<position>.png``.

    python tools/make_position_figures.py            # the default model
    python tools/make_position_figures.py --model adult_standing_trunk

Each figure is :func:`musclesim.plot.sagittal_figure` of the resting-tone result in that position,
written as a self-contained HTML page (plotly.js inlined: no network) and photographed by headless
Chromium through Playwright (the test extra; Debian's ``/usr/bin/chromium``, see TESTING.md).
Run it after a change to the model or the positions and look at the pictures.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "docs" / "positions"
CHROMIUM = "/usr/bin/chromium"
SIZE = (900, 700)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="model name or path (default: the default model)")
    args = ap.parse_args()

    import plotly.io as pio
    from playwright.sync_api import sync_playwright

    import musclesim as ms
    from musclesim import plot

    model = ms.load_model(args.model)
    OUT.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.model is None else f"_{model.name}"
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": SIZE[0], "height": SIZE[1]})
        for position in ms.POSITIONS:
            res = ms.simulate(model, position=position)
            title = f"{position}: resting tone ({model.name})" + ("" if res.ok else f" - {res.message}")
            fig = plot.sagittal_figure(res, None, title=title, height=SIZE[1] - 20)
            html = Path(tmp) / f"{position}.html"
            html.write_text(pio.to_html(fig, include_plotlyjs=True, full_html=True))
            page.goto(html.as_uri())
            page.wait_for_selector(".main-svg")
            target = OUT / f"{position}{suffix}.png"
            page.screenshot(path=str(target))
            print(f"wrote {target} ({'ok' if res.ok else res.status})")
        browser.close()


if __name__ == "__main__":
    main()
