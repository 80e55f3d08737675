"""Which muscles move pelvic tilt and the lumbar curve most?

For each measure: local derivatives at the resting tone, a one-at-a-time swing (tone 0 and 0.3)
and Morris elementary effects with every muscle's tone varying in [0, 0.3]. Prints the top five
muscles and writes a tornado plot (``tornado_<measure>.html``) and the table
(``sensitivity_<measure>.json``) for each.

    python examples/sensitivity_ranking.py [OUTPUT_DIR]    # default: $MUSCLESIM_OUT or ./out
"""

from __future__ import annotations

import json

from _output import output_dir

import musclesim as ms
from musclesim import analysis_plots
from musclesim.tables import write_atomic

MEASURES = ["pelvic_tilt_deg", "lumbar_lordosis_deg"]


def main():
    out = output_dir()
    model = ms.load_model()
    results = {}
    for measure in MEASURES:
        s = ms.sensitivity(model, measure)
        results[measure] = s
        analysis_plots.write_html(analysis_plots.tornado_figure(s), out / f"tornado_{measure}.html",
                                  title=f"sensitivity of {measure}")
        write_atomic(out / f"sensitivity_{measure}.json", json.dumps(s.as_dict(), indent=1))
        top = ", ".join(f"{m} {v:.1f}" for m, v in s.ranking()[:5])
        local = ", ".join(f"{m} {v:+.0f}" for m, v in
                          ((m, s.derivative[s.muscles.index(m)]) for m in s.top(5, by="local")))
        print(f"{measure} (baseline {s.baseline:.1f} {s.unit}):")
        print(f"  Morris mu* ({s.unit} per unit tone): {top}")
        print(f"  local d/dtone at rest:            {local}")
    print(f"wrote the tornado plots and tables to {out}")
    return results


if __name__ == "__main__":
    main()
