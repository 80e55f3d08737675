"""A teacher's class handout: the "desk sitter" article preset against the resting baseline.

Writes ``handout.html`` (the claim, the posture seen from the side with the baseline ghosted
behind it, and the measures against their normal bands) and ``handout.csv`` (the numbers).

    python examples/handout.py [OUTPUT_DIR]        # default: $MUSCLESIM_OUT or ./out
"""

from __future__ import annotations

import html
from pathlib import Path

from _output import output_dir

import musclesim as ms
from musclesim import analysis_plots, plot
from musclesim.scenarios import preset_info
from musclesim.tables import write_atomic

HERE = Path(__file__).resolve().parent
PRESET = "desk_sitter"


def main() -> Path:
    out = output_dir()
    scenario = ms.load_scenario(HERE / "scenarios" / f"{PRESET}.toml")
    table = ms.run_scenarios([scenario])
    table.to_csv(out / "handout.csv")

    model = ms.load_model(scenario.model)
    base = ms.simulate(model, position=scenario.position)
    res = ms.simulate(model, scenario.tone, position=scenario.position)
    posture = plot.sagittal_figure(res, base, title="Side view: desk sitter (solid) over the baseline (ghost)")
    bars = analysis_plots.scenario_figure(table)

    info = preset_info(PRESET)
    lines = [f"<li><b>{r['measure']}</b>: {r['baseline']:.1f} → {r['value']:.1f} {r['unit']} "
             f"({r['change']:+.1f})</li>" for r in table]
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(info['title'])}</title>
<style>body {{ font-family: sans-serif; max-width: 1000px; margin: 2em auto; }}</style></head>
<body>
<h1>{html.escape(info['title'])}</h1>
<p><b>The claim</b> (popular articles): {html.escape(info['claim'])}</p>
<p><b>What the research says</b> (evidence: {html.escape(info['evidence_grade'])}): {html.escape(info['evidence_note'])}</p>
<p><b>What the model gives</b> ({html.escape(res.message)}):</p>
<ul>{''.join(lines)}</ul>
{posture.to_html(full_html=False, include_plotlyjs=True)}
{bars.to_html(full_html=False, include_plotlyjs=False)}
<p><small>musclesim {ms.__version__}, model {html.escape(model.name)}: mechanics under stated assumptions,
not a prediction for a person.</small></p>
</body></html>
"""
    path = write_atomic(out / "handout.html", page)
    print(f"wrote {path} and {out / 'handout.csv'}")
    return path


if __name__ == "__main__":
    main()
