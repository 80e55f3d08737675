"""The page layout: header controls, tone sliders by region, body views, measures, why panel,
graph view, presets, compare and help. Built per page load from the model (no state)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from dash import dcc, html

from musclesim import plot

from . import components, compute, figures, ids
from .lessons import LESSONS, all_controls, control_label
from .presets import available_presets
from .state import VIEWS

#: Slider regions: (label, model groups that put a muscle there, open by default). A muscle goes
#: to the first region one of whose groups it belongs to; muscles in none go to "Other".
REGIONS = (
    ("Hip flexors", ("iliopsoas",), True),
    ("Abdominals", ("abdominals",), True),
    ("Back", ("back_extensors",), False),
    ("Glutes and hip extensors", ("glutes", "hip_extensors"), False),
    ("Thigh", ("quadriceps",), False),
    ("Calves and shin", ("calves", "shin"), False),
    ("Other", (), False),
)
#: Short clinical names (the header holds them on one line at 1280 px): supine = lying on the back,
#: hook lying = supine with knees bent and feet flat, knee pillow = supine with a pillow under the knees.
POSITION_LABELS = {"standing": "Standing", "supine": "Supine", "supine_knees_bent": "Hook lying",
                   "supine_pillow": "Knee pillow", "sitting": "Sitting"}
TEACHING = Path(__file__).resolve().parents[1] / "docs" / "teaching.md"


def region_of(groups) -> str:
    for label, gs, _ in REGIONS:
        if set(groups) & set(gs):
            return label
    return "Other"


def muscle_rows(model) -> dict[str, list[tuple[str, list]]]:
    """``{region: [(base name, [instances])]}`` in model order."""
    out: dict[str, dict[str, list]] = {label: {} for label, _, _ in REGIONS}
    for inst in model.instances:
        out[region_of(inst.muscle.groups)].setdefault(inst.base, []).append(inst)
    return {k: list(v.items()) for k, v in out.items() if v}


def _slider(inst) -> html.Div:
    side = {"left": "left", "right": "right"}.get(inst.side, "")
    label = inst.base.replace("_", " ") + (f", {side} side" if side else "")
    return html.Div([
        html.Span({"left": "L", "right": "R"}.get(inst.side, "·"), className="side", **{"aria-hidden": "true"}),
        dcc.Slider(id=ids.tone(inst.id), min=0, max=1, step=0.01, value=inst.muscle.default_tone, marks=None,
                   updatemode="mouseup", className="tone-slider"),
    ], className="tone-slider-wrap", role="group", **{"aria-label": f"{label}: resting tone",
                                                      "data-label": f"{label} resting tone (0 to 1)",
                                                      "data-muscle": inst.id})


def tone_controls(model) -> html.Div:
    sections = []
    for label, rows in muscle_rows(model).items():
        is_open = next((o for lab, _, o in REGIONS if lab == label), False)
        items = [html.Div([html.Div(base.replace("_", " "), className="muscle-name"),
                           html.Div([_slider(i) for i in insts], className="muscle-sliders")],
                          className="tone-row", **{"data-base": base}) for base, insts in rows]
        sections.append(html.Details([html.Summary(label)] + items, open=is_open, className="region"))
    return html.Div([html.H2("Resting tone"), coupling_control(), *sections, tightness_controls(model)],
                    id=ids.CONTROLS, className="panel controls")


def coupling_control() -> html.Div:
    """The neural tone coupling on/off (``simulate(..., coupling=...)``), with what it means."""
    return html.Div([
        dcc.Checklist(id=ids.COUPLING, options=[{"label": "Neural coupling (assumed)", "value": "on"}],
                      value=["on"], className="check coupling-toggle"),
        html.P("On: a tone change also spreads to opposing and helping muscles (assumed: the gains are an "
               "unsourced estimate). Off: mechanics only.", className="note", id="coupling-note"),
    ], className="coupling-control", role="group", **{"aria-label": "Neural tone coupling"})


def tightness_controls(model) -> html.Details:
    """Tightness (contracture) in degrees of motion lost: choose a muscle, set its degrees."""
    from musclesim.tone import MAX_TIGHTNESS_DEG

    joints = compute.tightness_joints()
    options, seen = [], set()
    for inst in model.instances:
        if inst.base not in seen and inst.side in ("left", "right"):
            seen.add(inst.base)
            j = joints.get(inst.id, "")
            options.append({"label": f"{inst.base.replace('_', ' ')} (both sides){' — ' + j if j else ''}",
                            "value": inst.base})
        j = joints.get(inst.id, "")
        side = f", {inst.side}" if inst.side in ("left", "right") else ""
        options.append({"label": f"{inst.base.replace('_', ' ')}{side}{' — ' + j if j else ''}", "value": inst.id})
    return html.Details([
        html.Summary("Advanced: tightness (contracture)"),
        html.P("Tightness is a shortened muscle: the degrees of motion it takes away at its main joint (what a "
               "Thomas test measures for the hip flexors). It is separate from tone; the articles say “tight” "
               "for both.", className="note"),
        html.Div([html.Span("Muscle (tightness)", id="tight-muscle-label", className="label"),
                  dcc.Dropdown(id=ids.TIGHT_MUSCLE, options=options, value=options[0]["value"] if options else None,
                               clearable=False, className="tight-select")],
                 **{"data-labelledby": "tight-muscle-label"}),
        html.Div([html.Span("°", className="side", **{"aria-hidden": "true"}),
                  dcc.Slider(id=ids.TIGHT_DEG, min=0, max=MAX_TIGHTNESS_DEG, step=1, value=0, marks=None,
                             updatemode="mouseup", className="tone-slider")],
                 className="tone-slider-wrap", role="group",
                 **{"aria-label": "tightness of the chosen muscle",
                    "data-label": f"tightness of the chosen muscle, degrees of motion lost (0 to {MAX_TIGHTNESS_DEG:g})"}),
        html.Button("Clear tightness", id=ids.TIGHT_CLEAR, className="btn"),
        html.Div(id=ids.TIGHT_LIST, className="tight-list"),
    ], id=ids.TIGHTNESS, className="region advanced")


def header(positions) -> html.Header:
    return html.Header([
        html.H1(["musclesim", html.Span(" · muscle tone and posture", className="subtitle")]),
        html.Div([
            html.Div([html.Span("Position", id="position-label", className="label"),
                      dcc.RadioItems(id=ids.POSITION, options=[{"label": POSITION_LABELS.get(p, p), "value": p}
                                                               for p in positions],
                                     value=positions[0], inline=True, className="radio")],
                     className="control-group", role="group", **{"aria-label": "Position"}),
            dcc.Checklist(id=ids.LINK, options=[{"label": "Link left and right", "value": "link"}], value=["link"],
                          className="check"),
            html.Div([html.Span("Lesson", id="lesson-label", className="label"),
                      dcc.Dropdown(id=ids.LESSON, options=[{"label": le.title, "value": le.id} for le in LESSONS],
                                   value=None, clearable=False, searchable=False, placeholder="Choose a lesson…",
                                   className="lesson-select")],
                     className="control-group lesson-group", **{"data-labelledby": "lesson-label"}),
            html.Button("Reset to baseline", id=ids.RESET, className="btn btn-reset"),
            html.Button("Predict first", id=ids.PREDICT, className="btn btn-predict"),
            html.Button("Reveal", id=ids.REVEAL, className="btn btn-reveal"),
            html.Button("Store as A", id=ids.STORE_A, className="btn btn-store-a",
                        title="Keep the current scenario as A, to compare with what you do next"),
            html.Button("Clear A", id=ids.CLEAR_A, className="btn btn-clear-a"),
            html.Button("CSV", id=ids.EXPORT_CSV, className="btn", title="Download measures and tones as CSV",
                        **{"aria-label": "Download measures and tones as CSV"}),
            html.Button("JSON", id=ids.EXPORT_JSON, className="btn", title="Download measures and tones as JSON",
                        **{"aria-label": "Download measures and tones as JSON"}),
            html.Button("Projector", id=ids.PRESENT, className="btn btn-present",
                        title="Projector / lesson mode: big controls, only the lesson's muscles"),
            html.A("Help", href="#" + ids.HELP, className="btn link"),
        ], className="toolbar"),
    ], className="header")


#: The drawing options: (value, label).
DRAW_OPTIONS = (("exaggerate", f"Exaggerate changes ×{plot.SAGITTAL_EXAGGERATION} (drawing only)"),
                ("front", "Front view"), ("top", "Top view"), ("ab", "A/B side by side"))


def _body_graph(fig_id: str, css: str, filename: str) -> html.Div:
    return html.Div(dcc.Graph(id=fig_id, className="fig", config=_graph_config(filename),
                              figure=figures.hidden_figure("Loading…", height=figures.BODY_HEIGHT)),
                    className=f"body-fig {css}")


def body_panel() -> html.Section:
    return html.Section([
        html.Div([html.H2("Posture"),
                  dcc.RadioItems(id=ids.VIEW, options=[{"label": "Pelvis and spine", "value": "trunk"},
                                                       {"label": "Whole body", "value": "body"}],
                                 value=VIEWS[0], inline=True, className="radio view-radio"),
                  dcc.Checklist(id=ids.DRAW, options=[{"label": lab, "value": v} for v, lab in DRAW_OPTIONS],
                                value=[], inline=True, className="check draw-options")],
                 className="panel-head"),
        html.Div(id=ids.STATUS, className="status", role="status"),
        html.Div([
            _body_graph(ids.SAGITTAL_A, "sagittal-a", "musclesim_sagittal_A"),
            _body_graph(ids.SAGITTAL, "sagittal", "musclesim_sagittal"),
            _body_graph(ids.FRONTAL, "frontal", "musclesim_frontal"),
            _body_graph(ids.TOP, "top", "musclesim_top"),
        ], className="body-views"),
        html.P([html.Span("Magenta", className="key-highlight"), ": the muscles you changed, arrows along their "
                "line of pull. Grey outline: baseline pose. Other muscles: colour and width show force. ",
                html.Span("Dashed orange", className="key-asis"), ": ASIS–PSIS line (pelvic tilt). ",
                html.Span("Blue", className="key-endplate"), ": S1, L1, T12 and T4 endplates (lordosis and "
                "kyphosis). ⊕: centre of mass."], className="key"),
        html.P([html.Strong("Front and top views: ", className="key-asis"),
                "seen from the front (and from above), so the body's left is on your right. ",
                html.Strong(f"Left-right changes are drawn ×{figures.LATERAL_EXAGGERATION}", className="key-asis"),
                " so the direction shows (the numbers are true). Dashed orange: the iliac crests (obliquity) "
                "against a dotted level line; the spine against a dotted plumb line from S1. Standing only."],
               className="key key-frontal", id="frontal-key"),
    ], className="panel body", **{"aria-label": "Body views"})


def lesson_panel() -> html.Section:
    """Projector mode's controls: the lesson's question and one big slider per lesson control
    (all are in the page; the update shows only the chosen lesson's)."""
    model = compute.get_model()
    rows = []
    for name in all_controls():
        mids = model.names().get(name) or ()
        rest = model.default_tone[mids[0]] if mids else 0.0
        label = control_label(name)
        rows.append(html.Div([
            html.Div([html.Span(label, className="lesson-name"), html.Span(f"rest {rest:.2f}", className="lesson-rest")],
                     className="lesson-label"),
            html.Div(dcc.Slider(id=ids.lesson_tone(name), min=0, max=1, step=0.01, value=rest,
                                marks={0: "0", 0.5: "0.5", 1: "1"}, updatemode="mouseup", className="lesson-slider"),
                     className="lesson-slider-wrap", role="group",
                     **{"aria-label": f"{label}: resting tone", "data-label": f"{label} resting tone (0 to 1)",
                        "data-control": name}),
        ], id=ids.lesson_row(name), className="lesson-row"))
    return html.Section([
        html.Div(id=ids.LESSON_QUESTION, className="lesson-question", **{"aria-live": "polite"}),
        html.Div(rows, className="lesson-controls"),
        html.P("Tab moves between controls; arrow keys move a slider (Page Up / Page Down: 0.1).",
               className="note lesson-help"),
    ], id=ids.LESSON_PANEL, className="panel lesson", **{"aria-label": "Lesson controls"})


def measures_panel() -> html.Section:
    return html.Section([
        html.H2("Measures"),
        html.Div(id=ids.KEY_MEASURES, className="tiles"),
        html.Div(id=ids.PI_LL, className="pi-ll"),
        html.Div(id=ids.SPLIT, className="split", title="total change = mechanics + assumed coupling",
                 **{"aria-live": "polite"}),
        html.Div(id=ids.MEASURES_TABLE, className="table-wrap"),
        dcc.Store(id=ids.MEASURES_DATA, storage_type="memory"),  # each update's cells (the browser draws them)
        dcc.Store(id=ids.MEASURES_STATIC, storage_type="memory", data=components.measures_static(compute.measure_info())),
        html.Div([html.H3("Your prediction"),
                  dcc.RadioItems(id=ids.PREDICTION, options=[{"label": "goes up", "value": "up"},
                                                             {"label": "goes down", "value": "down"},
                                                             {"label": "stays the same", "value": "same"}],
                                 value=None, inline=True, className="radio"),
                  html.Div(id=ids.PREDICTION_FEEDBACK, role="status")], className="prediction"),
    ], className="panel measures-panel", **{"aria-label": "Measures"})


def why_toggle() -> html.Button:
    """Shows or hides the explanation (closed by default: the server explains only while it is
    open, or in projector mode, which always shows the sentence)."""
    return html.Button("Show the explanation", id=ids.WHY_TOGGLE, className="btn btn-why",
                       **{"aria-controls": ids.WHY_BODY, "aria-expanded": "false"})


def why_panel(measure_names) -> html.Section:
    return html.Section([
        html.Div([html.H2("Why?"),
                  html.Div([html.Span("Explain", id="why-measure-label", className="label"),
                            dcc.Dropdown(id=ids.MEASURE, options=[{"label": plot.measure_label(m), "value": m}
                                                                  for m in measure_names],
                                         value="pelvic_tilt_deg", clearable=False, className="measure-select",
                                         searchable=True)],
                           className="labelled", **{"data-labelledby": "why-measure-label"}),
                  why_toggle()],
                 className="panel-head"),
        html.Div([
            html.Div(id=ids.WHY_TEXT, className="why-text", **{"aria-live": "polite"}),
            html.Div([html.Div(dcc.Graph(id=ids.DRIVERS, className="fig", config=_graph_config("musclesim_drivers")),
                               className="drivers"),
                      html.Div(dcc.Graph(id=ids.WATERFALL, className="fig",
                                         config=_graph_config("musclesim_waterfall")),
                               className="waterfall")],
                     className="why-figs"),
        ], id=ids.WHY_BODY, className="why-body"),
    ], className="panel why", **{"aria-label": "Why panel"})


def graph_panel(G) -> html.Section:
    nodes = sorted(G.nodes)
    return html.Section([
        html.Div([html.H2("Interaction graph"),
                  html.Div([
                      html.Button("▶ Play", id=ids.GRAPH_PLAY, className="btn", **{"aria-label": "Play or pause the propagation"}),
                      html.Button("Step ▸", id=ids.GRAPH_NEXT, className="btn", **{"aria-label": "Next propagation frame"}),
                      html.Div(dcc.Slider(id=ids.GRAPH_STEP, min=0, max=1, step=1, value=1, marks=None,
                                          allow_direct_input=False, className="step-slider"),
                               className="step-wrap", role="group",
                               **{"aria-label": "Propagation frame", "data-label": "Propagation frame"}),
                      html.Span(id=ids.GRAPH_FRAME, className="frame-label", **{"aria-live": "polite"}),
                  ], className="graph-controls"),
                  dcc.Interval(id=ids.GRAPH_TIMER, interval=600, disabled=True)], className="panel-head"),
        html.Div(dcc.Graph(id=ids.GRAPH, figure=_graph_base(), className="fig", config=_graph_config("musclesim_graph")),
                 className="graph-fig"),
        html.Div([
            html.Div([html.Span("Inspect a node", id="node-select-label", className="sr-only"),
                      dcc.Dropdown(id=ids.NODE_SELECT, options=[{"label": n, "value": n} for n in nodes], value=None,
                                   placeholder="Inspect a node…", className="node-select")],
                     **{"data-labelledby": "node-select-label"}),
            html.Div(id=ids.NODE_DETAILS, className="node-details", **{"aria-live": "polite"}),
        ], className="node-panel"),
    ], className="panel graph", **{"aria-label": "Interaction graph"})


@lru_cache(maxsize=1)
def _graph_base_cached() -> str:
    import json

    return json.dumps(figures.graph_base_figure(compute.graph()))


def _graph_base() -> dict:
    """The static graph figure (built once per process, a fresh copy per page)."""
    import json

    return json.loads(_graph_base_cached())


@lru_cache(maxsize=1)
def graph_static() -> dict:
    """What the graph updates need from the static figure: its traces' names and node markers
    (read-only; never sent to a page as is)."""
    import json

    fig = json.loads(_graph_base_cached())
    return {"data": [{"name": t.get("name"), "marker": t.get("marker"), "mode": t.get("mode")} for t in fig["data"]],
            "layout": {"margin": fig["layout"].get("margin"), "title": {"text": (fig["layout"].get("title") or {})
                                                                         .get("text", "")}}}


def presets_panel(positions) -> html.Section:
    presets = available_presets(positions)
    cards = []
    for p in presets:
        card = components.preset_card(p, None)
        card.children.insert(-1, html.P(["Model verdict: ", html.Span("…", id=ids.preset_verdict(p.id))],
                                         className="verdict-line"))
        cards.append(card)
    return html.Section([
        html.H2("Presets from the articles"),
        html.Div(id=ids.ACTIVE_PRESET, className="active-preset", **{"aria-live": "polite"}),
        html.Details([html.Summary(f"All presets ({len(presets)})"), html.Div(cards, className="preset-grid")],
                     open=True, id=ids.PRESET_LIST),
    ], className="panel presets", **{"aria-label": "Presets"})


def compare_panel() -> html.Section:
    return html.Section([
        html.Div([html.H2("Compare A / B")], className="panel-head"),
        html.Div(id=ids.COMPARE, className="table-wrap"),
    ], className="panel compare-panel", **{"aria-label": "Compare scenarios"})


def _graph_config(filename: str) -> dict:
    return {"displaylogo": False, "responsive": True,
            "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
            "modeBarButtonsToRemove": ["lasso2d", "select2d", "sendChartToCloud"], "showSendToCloud": False,
            "showEditInChartStudio": False}


def _teaching() -> str | None:
    try:
        return TEACHING.read_text(encoding="utf-8")
    except OSError:
        return None


def build_layout() -> html.Div:
    """The whole page (called per page load)."""
    model = compute.get_model()
    positions = compute.positions()
    return html.Div([
        dcc.Location(id=ids.URL, refresh=False),
        dcc.Store(id=ids.STATE, storage_type="memory"),
        dcc.Store(id=ids.RESULT, storage_type="memory"),
        dcc.Download(id=ids.DOWNLOAD),
        header(positions),
        html.Div(id=ids.BANNER, className="banner", role="alert"),
        html.Main([
            tone_controls(model),
            lesson_panel(),
            body_panel(),
            measures_panel(),
            why_panel(compute.measures()),
            presets_panel(positions),
            graph_panel(compute.graph()),
            compare_panel(),
        ], className="grid"),
        html.Footer(components.help_section(_teaching())),
    ], id=ids.ROOT, className="app")
