"""Label layout for the body figures: text extents and a one-dimensional placement that never overlaps (pure).

Part of :mod:`musclesim.plot` (its public names are re-exported there).
"""

from __future__ import annotations

from collections.abc import Sequence

# --------------------------------------------------------------------------- label layout (pure)

#: Estimated text metrics for label boxes (Helvetica/Arial-like fonts): average glyph width and
#: line height as fractions of the font size, and the box padding (plotly's borderpad + border).
GLYPH_WIDTH_EM = 0.6
LINE_HEIGHT_EM = 1.3
LABEL_PAD_PX = 5


def _strip_tags(text: str) -> str:
    import re

    return re.sub(r"<[^>]+>", "", text)


def label_extent_px(text: str, font_px: float) -> tuple[float, float]:
    """Estimated ``(width, height)`` in pixels of a plotly annotation box holding ``text``
    (``<br>`` separates lines; tags such as ``<b>`` take no room). Deliberately generous: a
    layout made with these extents leaves real text a little room to spare."""
    lines = [_strip_tags(t) for t in text.split("<br>")] or [""]
    w = max(len(t) for t in lines) * GLYPH_WIDTH_EM * font_px + 2 * LABEL_PAD_PX
    h = len(lines) * LINE_HEIGHT_EM * font_px + 2 * LABEL_PAD_PX
    return w, h


def place_labels(wanted: Sequence[float], sizes: Sequence[float], lo: float, hi: float,
                 gap: float = 0.0) -> list[float]:
    """The layout rule of the body figures' labels: 1-D greedy de-overlap.

    Labels ``i`` want their centre at ``wanted[i]`` and take ``sizes[i]`` along the axis; the
    result puts each centre as near its wish as the others allow, keeping every pair at least
    ``gap`` apart (``|c_i - c_j| >= (sizes[i] + sizes[j]) / 2 + gap``) and, when they fit, every
    box inside ``[lo, hi]``. Order along the axis is kept (sorted by wish, ties by index). A
    forward sweep pushes each box past the previous one; a backward sweep pulls the last ones
    back under ``hi``; if the boxes do not fit between ``lo`` and ``hi`` at all they are stacked
    up from ``lo`` (still never overlapping). Returns the centres in input order.
    """
    n = len(wanted)
    if len(sizes) != n:
        raise ValueError("wanted and sizes differ in length")
    if n == 0:
        return []
    order = sorted(range(n), key=lambda i: (wanted[i], i))
    s = [float(sizes[i]) for i in order]
    c = [0.0] * n
    for k, i in enumerate(order):
        floor = lo + s[k] / 2 if k == 0 else c[k - 1] + (s[k - 1] + s[k]) / 2 + gap
        c[k] = max(float(wanted[i]), floor)
    if c[-1] + s[-1] / 2 > hi:
        c[-1] = hi - s[-1] / 2
        for k in range(n - 2, -1, -1):
            c[k] = min(c[k], c[k + 1] - (s[k] + s[k + 1]) / 2 - gap)
        if c[0] - s[0] / 2 < lo:  # they do not fit: stack from the bottom, overlapping nothing
            c[0] = lo + s[0] / 2
            for k in range(1, n):
                c[k] = c[k - 1] + (s[k - 1] + s[k]) / 2 + gap
    out = [0.0] * n
    for k, i in enumerate(order):
        out[i] = c[k]
    return out


def boxes_overlap(a: Sequence[float], b: Sequence[float]) -> bool:
    """Whether two boxes ``(x0, y0, x1, y1)`` overlap (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]
