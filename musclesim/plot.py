"""Plotly figures of musclesim results: pure builders, data in, figure out.

Every builder takes plain musclesim objects (a :class:`~musclesim.simulate.Result`, an
:class:`~musclesim.explain.Explanation`, the interaction graph) and returns a
:class:`plotly.graph_objects.Figure`; nothing here touches the dashboard, so notebooks use the
same pictures::

    import musclesim as ms
    from musclesim import plot
    model = ms.load_model()
    base = ms.simulate(model)
    res = ms.simulate(model, tone={"psoas_major_left": 0.6})
    plot.sagittal_figure(res, base).show()
    plot.frontal_figure(res, base, exaggerate=5).show()   # left-right changes drawn x5
    plot.waterfall_figure(ms.explain(res, base)["pelvic_tilt_deg"]).show()
    plot.graph_figure(ms.interaction_graph(model), res, base).show()

``as_dict=True`` returns the figure as a plain dict instead (the same JSON plotly would send),
skipping plotly's property validation, which costs tens of milliseconds for a figure with a
trace per muscle: the dashboard uses it to stay inside its time budget. The figure tests build
every dict into a validated ``go.Figure`` so both forms stay correct.

Drawing conventions: metres, x anterior, y up (sagittal view seen from the subject's left);
the frontal view draws z (to the subject's left) and y up, seen from the front, so the subject's
left is on the viewer's right. Colours say the same thing everywhere: red more (force, activation, flexion), blue less.
"""

from __future__ import annotations

from .plotting.body import (
    BONE_FILL,
    BONE_LINE,
    GHOST_LINE,
    HIGHLIGHT_COLOR,
    LABEL_ROOM_M,
    MAX_MUSCLE_LABELS,
    MIN_PLOT_PX,
    SAGITTAL_EXAGGERATION,
    TRUNK_SEGMENTS,
    bone_outlines,
    exaggerate_change,
    sagittal_figure,
    view_box,
)
from .plotting.explain import (
    drivers_figure,
    waterfall_figure,
)
from .plotting.frontal import (
    ACTIVATION_TOL,
    EXAGGERATION_STEPS,
    LATERAL_WORDS,
    TOP_VIEW_MAX_DRAWN_DEG,
    TRANSVERSE_MEASURES,
    exaggerate_frontal,
    exaggerate_lateral,
    frontal_figure,
    lateral_phrase,
    top_figure,
)
from .plotting.graph import (
    GRAPH_NODE_TRACES,
    graph_figure,
    graph_frames,
    graph_layout,
    node_relations,
    relation_edges,
)
from .plotting.labels import (
    GLYPH_WIDTH_EM,
    LABEL_PAD_PX,
    LINE_HEIGHT_EM,
    boxes_overlap,
    label_extent_px,
    place_labels,
)
from .plotting.measures import (
    compare_rows,
    measure_rows,
    measures_bar_figure,
    pi_ll_mismatch,
)

# The figures live in musclesim.plotting (one module per view); this module keeps their public names.
from .plotting.style import (
    ANNOTATED_MEASURES,
    CHANGE_COLORSCALE,
    CHANGE_TOL,
    FORCE_COLORSCALE,
    FORCE_SCALE_N,
    FRONTAL_MEASURES,
    FRONTAL_NOT_STANDING,
    NODE_STYLE,
    RELATION_STYLE,
    force_color,
    force_width,
    measure_label,
    muscle_label,
    placeholder_figure,
    unit_symbol,
)

__all__ = [
    "ACTIVATION_TOL",
    "ANNOTATED_MEASURES",
    "BONE_FILL",
    "BONE_LINE",
    "CHANGE_COLORSCALE",
    "CHANGE_TOL",
    "EXAGGERATION_STEPS",
    "FORCE_COLORSCALE",
    "FORCE_SCALE_N",
    "FRONTAL_MEASURES",
    "FRONTAL_NOT_STANDING",
    "GHOST_LINE",
    "GLYPH_WIDTH_EM",
    "GRAPH_NODE_TRACES",
    "HIGHLIGHT_COLOR",
    "LABEL_PAD_PX",
    "LABEL_ROOM_M",
    "LATERAL_WORDS",
    "LINE_HEIGHT_EM",
    "MAX_MUSCLE_LABELS",
    "MIN_PLOT_PX",
    "NODE_STYLE",
    "RELATION_STYLE",
    "SAGITTAL_EXAGGERATION",
    "TOP_VIEW_MAX_DRAWN_DEG",
    "TRANSVERSE_MEASURES",
    "TRUNK_SEGMENTS",
    "bone_outlines",
    "boxes_overlap",
    "compare_rows",
    "drivers_figure",
    "exaggerate_change",
    "exaggerate_frontal",
    "exaggerate_lateral",
    "force_color",
    "force_width",
    "frontal_figure",
    "graph_figure",
    "graph_frames",
    "graph_layout",
    "label_extent_px",
    "lateral_phrase",
    "measure_label",
    "measure_rows",
    "measures_bar_figure",
    "muscle_label",
    "node_relations",
    "pi_ll_mismatch",
    "place_labels",
    "placeholder_figure",
    "relation_edges",
    "sagittal_figure",
    "top_figure",
    "unit_symbol",
    "view_box",
    "waterfall_figure",
]
