"""Psoas tone against the lumbar curve: a sweep with a plot.

Sweeps the resting tone of both psoas muscles from 0 to 1 (41 values, tone coupling on), writes
the tidy table (``psoas_sweep.csv``) and a figure of pelvic tilt and lumbar lordosis against the
tone with the normal bands shaded (``psoas_sweep.html``), and prints the lordosis slope.

    python examples/psoas_sweep.py [OUTPUT_DIR]    # default: $MUSCLESIM_OUT or ./out
"""

from __future__ import annotations

import numpy as np
from _output import output_dir

import musclesim as ms
from musclesim import analysis_plots

MEASURES = ["pelvic_tilt_deg", "lumbar_lordosis_deg"]


def main():
    out = output_dir()
    model = ms.load_model()
    table = ms.sweep(model, "psoas_major", np.linspace(0.0, 1.0, 41), metrics=MEASURES)
    table.to_csv(out / "psoas_sweep.csv")
    analysis_plots.write_html(analysis_plots.sweep_figure(table), out / "psoas_sweep.html",
                              title="psoas tone vs lordosis")
    tone, lordosis = table.series("lumbar_lordosis_deg")
    _, tilt = table.series("pelvic_tilt_deg")
    low = tone <= 0.5
    slope = np.polyfit(tone[low], lordosis[low], 1)[0]
    ratio = np.polyfit(tilt[low], lordosis[low], 1)[0]
    print(f"{int(table.ok.sum())} of {len(tone)} tones found a posture")
    print(f"lumbar lordosis rises {slope / 10:.2f} deg per +0.1 psoas tone (tone 0-0.5); "
          f"{ratio:.2f} deg of lordosis per deg of pelvic tilt")
    print(f"wrote {out / 'psoas_sweep.csv'} and {out / 'psoas_sweep.html'}")
    return table


if __name__ == "__main__":
    main()
