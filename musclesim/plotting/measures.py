"""Measure tables and the measures' bar chart; the side-by-side comparison rows.

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .style import _FONT, _finish, _r, measure_label, unit_symbol

# --------------------------------------------------------------------------- measures

def measure_rows(metrics: Mapping[str, float], baseline_metrics: Mapping[str, float] | None = None,
                 measures: Mapping[str, Any] | None = None) -> list[dict]:
    """One row per measure: value, baseline, change, normal band and out-of-band flag.

    Measures come in :data:`musclesim.metrics.MEASURES` order, then any others ``metrics``
    has. ``flag`` is ``"high"``, ``"low"`` or ``""`` (inside the band, or no band); a NaN value
    (a failed solve) has flag ``"n/a"``.
    """
    if measures is None:
        from ..metrics import MEASURES as measures
    names = [k for k in measures if k in metrics] + [k for k in metrics if k not in measures]
    rows = []
    for name in names:
        info = measures.get(name)
        v = float(metrics[name])
        b = float(baseline_metrics[name]) if baseline_metrics and name in baseline_metrics else None
        band = tuple(info.normal) if info is not None and info.normal else None
        if not math.isfinite(v):
            flag = "n/a"
        elif band and v < band[0]:
            flag = "low"
        elif band and v > band[1]:
            flag = "high"
        else:
            flag = ""
        rows.append({
            "name": name, "label": measure_label(name), "unit": info.unit if info else "",
            "value": v, "baseline": b, "change": (v - b) if b is not None else None,
            "normal": band, "normal_source": info.normal_source if info else "", "flag": flag,
            "meaning": info.meaning if info else "", "plane": getattr(info, "plane", "sagittal") if info else "",
        })
    return rows


def pi_ll_mismatch(metrics: Mapping[str, float], limit_deg: float = 10.0) -> tuple[float | None, bool]:
    """Pelvic incidence minus lumbar lordosis (deg) and whether it exceeds ``limit_deg`` (Schwab)."""
    if "pi_minus_ll_deg" in metrics:
        v = metrics["pi_minus_ll_deg"]
    elif "pelvic_incidence_deg" in metrics and "lumbar_lordosis_deg" in metrics:
        v = metrics["pelvic_incidence_deg"] - metrics["lumbar_lordosis_deg"]
    else:
        return None, False
    v = float(v)
    return v, math.isfinite(v) and abs(v) > limit_deg


def measures_bar_figure(rows: Sequence[Mapping], *, height: int = 420, as_dict: bool = False):
    """Each measure's change from baseline as a fraction of its normal band's width (or of the
    baseline value where no band exists), so changes in degrees, millimetres and newtons compare."""
    labels, fracs, texts, colors = [], [], [], []
    for row in rows:
        if row.get("change") is None or not math.isfinite(row["value"]):
            continue
        band = row.get("normal")
        width = (band[1] - band[0]) if band else max(abs(row["baseline"] or 0.0), 1.0)
        f = row["change"] / width
        labels.append(row["label"])
        fracs.append(_r(f))
        texts.append(f"{row['change']:+.1f} {unit_symbol(row['unit'])}")
        colors.append("#b2182b" if row["flag"] in ("high", "low") else "#4d4d4d")
    fig = {
        "data": [{"type": "bar", "orientation": "h", "x": fracs, "y": labels, "text": texts,
                  "textposition": "outside", "marker": {"color": colors}, "cliponaxis": False,
                  "hovertemplate": "%{y}: %{text}<extra></extra>"}],
        "layout": {"height": height, "margin": {"l": 190, "r": 60, "t": 30, "b": 40}, "font": {"family": _FONT},
                   "title": {"text": "Change from baseline (fraction of the normal band)", "font": {"size": 14}},
                   "xaxis": {"zeroline": True, "zerolinecolor": "#888"},
                   "yaxis": {"autorange": "reversed"}, "plot_bgcolor": "#fff"},
    }
    return _finish(fig, as_dict)


def compare_rows(a: Mapping[str, float], b: Mapping[str, float], names: Iterable[str] | None = None) -> list[dict]:
    """Side-by-side rows of two scenarios' measures: ``a``, ``b`` and ``b - a``."""
    names = list(names) if names is not None else [k for k in a if k in b]
    rows = []
    for k in names:
        va, vb = a.get(k), b.get(k)
        rows.append({"name": k, "label": measure_label(k), "a": va, "b": vb,
                     "diff": (vb - va) if va is not None and vb is not None else None})
    return rows
