"""Callbacks: thin. Validate input, call the API (through :mod:`dashboard.compute`) and the
figure builders, return what to show. No module-level mutable state: the view state lives in
``dcc.Store`` and the URL.

The pure functions (:func:`next_state`, :func:`update_views`, ...) take and return plain data,
so tests and ``benchmarks/bench_dashboard.py`` call them without a browser; :func:`register`
wires them to the app.

Flow, in ONE server round trip per control change (:func:`apply`): any control or the URL ->
:func:`next_state` (no physics: the new state, the URL, the control values, messages) ->
:func:`update_views` (one simulate, and one explain while the *Why?* panel is open, memoised;
every view at once). The state
travels with the request (the state store as a callback ``State``) and back in the answer, and
the URL mirrors it; the server keeps nothing per visitor.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Mapping, Sequence
from typing import Any

from dash import ALL, ClientsideFunction, Input, Output, State, ctx, html, no_update

from musclesim import plot

from . import components, compute, figures, ids
from .lessons import DEFAULT_LESSON, LESSONS, lesson_by_id
from .presets import available_presets, preset_by_id, verdict
from .state import clean_tight, clean_tone, default_state, format_query, parse_query, validate_tight, validate_tone

# --------------------------------------------------------------------------- state


def _env():
    model = compute.get_model()
    positions = compute.positions()
    measures = compute.measures()
    presets = tuple(p.id for p in available_presets(positions))
    return model, positions, measures, presets


def _load_preset(model, st: dict, p, measures) -> None:
    st["tone"] = clean_tone(model, validate_tone(model, p.tone))
    st["tight"] = clean_tight(validate_tight(model, p.tightness)) if p.tightness else {}
    st["position"] = p.position
    st["preset"] = p.id
    st["reveal"] = False
    first = next((m for m in p.measures if m in measures), None)
    if first:
        st["measure"] = first


def start_lesson(model, st: dict, lesson_id: str, presets, measures) -> None:
    """Put ``st`` at the start of a lesson: its preset (hidden until the reveal) or the baseline,
    its measure, projector layout, no A/B."""
    le = lesson_by_id(lesson_id) or lesson_by_id(DEFAULT_LESSON)
    p = preset_by_id(le.preset) if le.preset else None
    st.update(lesson=le.id, present=True, a=None, ab=False, front=le.front, top=False, reveal=False)
    if p is not None and p.id in presets:
        _load_preset(model, st, p, measures)
        st["predict"] = True
    else:
        st.update(tone={}, tight={}, preset=None, predict=False)
    if le.measure in measures:
        st["measure"] = le.measure


def lesson_value(model, state: Mapping, name: str) -> float:
    """What a lesson control's slider shows: the tone of the first muscle it names."""
    mids = model.names().get(name) or ()
    return _tone_of(model, state, mids[0]) if mids else 0.0


def _tone_of(model, state: Mapping, mid: str) -> float:
    return float(state.get("tone", {}).get(mid, model.default_tone[mid]))


def next_state(trigger: Any, *, search: str | None, values: Sequence[Any], slider_ids: Sequence[Mapping],
               position: str | None, measure: str | None, view: str | None, link: Sequence[str] | None,
               state: Mapping | None, tight_muscle: str | None = None, tight_deg: Any = None,
               lesson_values: Sequence[Any] = (), lesson_ids: Sequence[Mapping] = (), lesson: str | None = None,
               draw: Sequence[str] | None = None, coupling: Sequence[str] | None = None) -> dict:
    """The new view state after ``trigger`` (a component id, or None on page load).

    Returns ``{"state", "search", "values", "lesson_values", "lesson_rows", "position",
    "measure", "view", "draw", "lesson", "tight_deg", "coupling", "messages"}``: ``values`` are the tone
    sliders' values in ``slider_ids`` order, ``lesson_values`` and ``lesson_rows`` (class names)
    the lesson controls' in ``lesson_ids`` order, ``draw`` the drawing options' checked values,
    ``coupling`` the neural-coupling toggle's (``["on"]`` or ``[]``; the trigger ``ids.COUPLING``
    reads it),
    ``tight_deg`` the tightness slider's (for the muscle chosen in the tightness list). Bad input (from the URL,
    or a typed number out of range) never raises: it becomes a message, and the baseline (URL) or
    the previous value (a slider) is kept.
    """
    model, positions, measures, presets = _env()
    messages: list[str] = []
    st = {**default_state(positions, measures), **dict(state)} if state else default_state(positions, measures)
    st.setdefault("tone", {})
    st.setdefault("tight", {})
    linked = bool(link and "link" in link)
    trig_type = trigger.get("type") if isinstance(trigger, Mapping) else None
    st.setdefault("a", None)
    if trigger is None or trigger == ids.URL or state is None:
        st, messages = parse_query(search, model, positions, measures, presets, tuple(le.id for le in LESSONS))
        if st.get("present") and not st.get("lesson"):
            st["lesson"] = DEFAULT_LESSON
        elif st.get("lesson") and not (st["tone"] or st["tight"] or st.get("preset") or messages):
            start_lesson(model, st, st["lesson"], presets, measures)  # a bare lesson link opens its start
    elif trig_type == ids.LESSON_TONE:
        name = trigger["name"]
        new = {lid["name"]: v for lid, v in zip(lesson_ids, lesson_values)}.get(name)
        try:
            if new is None:
                raise ValueError("enter a number")
            resolved = validate_tone(model, {name: new})
        except (ValueError, TypeError, KeyError) as exc:
            messages.append(f"Tone for {name.replace('_', ' ')}: {getattr(exc, 'message', None) or exc}; "
                            "kept the previous value.")
        else:
            tone = {m: _tone_of(model, st, m) for m in model.muscle_ids}
            tone.update(resolved)
            st["tone"] = clean_tone(model, tone)
            st["reveal"] = False
    elif trigger == ids.LESSON:
        if lesson_by_id(lesson):
            start_lesson(model, st, lesson, presets, measures)
    elif trigger == ids.DRAW:
        chosen = set(draw or ())
        st.update(exaggerate="exaggerate" in chosen, front="front" in chosen, top="top" in chosen,
                  ab="ab" in chosen and bool(st.get("a")))
    elif trigger == ids.COUPLING:
        st["coupling"] = bool(coupling and "on" in coupling)
        st["reveal"] = False
    elif trigger == ids.STORE_A:
        st["a"] = {"tone": dict(st["tone"]), "tight": dict(st["tight"]), "position": st["position"],
                   "coupling": bool(st.get("coupling", True))}
        st["ab"] = True
    elif trigger == ids.CLEAR_A:
        st.update(a=None, ab=False)
    elif trig_type == ids.TONE:
        current = {sid["muscle"]: v for sid, v in zip(slider_ids, values)}
        mid = trigger["muscle"]
        new = current.get(mid)
        tone = {m: _tone_of(model, st, m) for m in model.muscle_ids}
        try:
            if new is None:
                raise ValueError("empty")
            value = validate_tone(model, {mid: new})[mid]
        except (ValueError, TypeError, KeyError) as exc:
            msg = getattr(exc, "message", None) or str(exc)
            messages.append(f"Tone for {mid.replace('_', ' ')}: {msg if msg != 'empty' else 'enter a number'}; "
                            "kept the previous value.")
        else:
            tone[mid] = value
            partner = compute.partners().get(mid)
            if linked and partner:
                tone[partner] = value
        st["tone"] = clean_tone(model, tone)
        st["reveal"] = False
    elif trigger == ids.TIGHT_DEG and tight_muscle:
        try:
            if tight_deg is None:
                raise ValueError("enter a number of degrees")
            targets = validate_tight(model, {tight_muscle: tight_deg})
        except (ValueError, TypeError, KeyError) as exc:
            messages.append(f"Tightness: {getattr(exc, 'message', None) or exc}; kept the previous value.")
        else:
            tight = dict(st["tight"])
            for mid, deg in targets.items():
                for m in {mid, compute.partners().get(mid) if linked else None} - {None}:
                    tight[m] = deg
            st["tight"] = clean_tight(tight)
            st["reveal"] = False
    elif trigger == ids.TIGHT_CLEAR:
        st["tight"] = {}
        st["reveal"] = False
    elif trigger == ids.RESET:
        if st.get("lesson"):
            start_lesson(model, st, st["lesson"], presets, measures)
        else:
            st.update(tone={}, tight={}, preset=None, reveal=False)
    elif trig_type == ids.PRESET_LOAD:
        p = preset_by_id(trigger["preset"])
        if p is not None and p.id in presets:
            _load_preset(model, st, p, measures)
    elif trigger == ids.POSITION:
        if position in positions:
            st["position"] = position
            st["reveal"] = False
    elif trigger == ids.MEASURE:
        if measure in measures:
            st["measure"] = measure
    elif trigger == ids.VIEW:
        if view in ("trunk", "body"):
            st["view"] = view
    elif trigger == ids.PRESENT:
        st["present"] = not st.get("present", False)
        st["lesson"] = (st.get("lesson") or DEFAULT_LESSON) if st["present"] else None
    elif trigger == ids.PREDICT:
        st["predict"] = not st.get("predict", False)
        st["reveal"] = False
    elif trigger == ids.REVEAL:
        st["reveal"] = True
    elif trigger == ids.WHY_TOGGLE:
        st["why"] = not st.get("why", False)
    out_values = [_tone_of(model, st, sid["muscle"]) for sid in slider_ids]
    le = lesson_by_id(st.get("lesson"))
    shown = set(le.controls) if le else set()
    draw_out = [k for k in ("exaggerate", "front", "top", "ab") if st.get(k)]
    return {"state": st, "search": format_query(st, model, positions), "values": out_values,
            "lesson_values": [lesson_value(model, st, lid["name"]) for lid in lesson_ids],
            "lesson_rows": ["lesson-row" + (" in-lesson" if lid["name"] in shown else "") for lid in lesson_ids],
            "position": st["position"], "measure": st["measure"], "view": st.get("view", "trunk"),
            "draw": draw_out, "lesson": st.get("lesson"), "coupling": ["on"] if st.get("coupling", True) else [],
            "tight_deg": tight_of(model, st, tight_muscle), "messages": messages}


def tight_of(model, state: Mapping, name: str | None) -> float:
    """The tightness (degrees) the slider shows for ``name``: its muscles' largest."""
    if not name:
        return 0.0
    mids = model.names().get(name, ())
    return max((float(state.get("tight", {}).get(m, 0.0)) for m in mids), default=0.0)


# --------------------------------------------------------------------------- the update


def _summary(res, state: Mapping, units: Mapping[str, str], split: Mapping | None = None) -> dict:
    """The compact result kept in the browser (for export and A/B compare); with ``split``
    (:func:`dashboard.compute.split`) each measure's change as ``mechanics`` and ``coupling``
    parts, and the split's state, message and the coupling's evidence."""
    def num(v):
        return None if v is None or not math.isfinite(v) else round(float(v), 4)

    out = {"tone": dict(state.get("tone", {})), "tightness_deg": dict(state.get("tight", {})),
            "position": state["position"], "neural_coupling": bool(state.get("coupling", True)), "ok": bool(res.ok),
            "message": res.message, "metrics": {k: num(v) for k, v in res.metrics.items()},
            "baseline": {k: num(v) for k, v in res.baseline_metrics.items()},
            "units": {k: units.get(k, "") for k in res.metrics},
            "activation": {k: round(float(v), 4) for k, v in res.activation.items()},
            "force_N": {k: round(float(v), 1) for k, v in res.muscle_force_N.items()}}
    if split is not None:
        parts = split["measures"]
        out["mechanics"] = {k: num(parts[k]["mechanics"]) if k in parts else None for k in res.metrics}
        out["coupling"] = {k: num(parts[k]["coupling"]) if k in parts else None for k in res.metrics}
        out["split"] = {"state": split["state"], "message": split["message"], "evidence": dict(split["evidence"])}
    return out


def preset_verdict(preset_id: str) -> dict | None:
    """The model's verdict on a preset's claim (solving the preset and its reference)."""
    p = preset_by_id(preset_id)
    if p is None or p.position not in compute.positions():
        return None
    model = compute.get_model()
    tone = clean_tone(model, validate_tone(model, p.tone))
    tight = clean_tight(validate_tight(model, p.tightness)) if p.tightness else {}
    res = compute.solve(tone, p.position, tight)
    ref = compute.solve(tone, p.compare_position, tight) if p.compare_position else compute.baseline(p.position)
    units = {k: v.unit for k, v in compute.measure_info().items()}
    return verdict(p, res, ref, units)


def highlight_notes(state: Mapping) -> dict[str, str]:
    """``{muscle id: label line}`` for the muscles the visitor changed (tone or tightness): the
    side view draws them highlighted."""
    out = {m: f"tone {v:.2f}" for m, v in (state.get("tone") or {}).items()}
    for m, deg in (state.get("tight") or {}).items():
        out[m] = (out[m] + ", " if m in out else "") + f"tight {deg:g}°"
    return out


def explanation_shown(state: Mapping) -> bool:
    """Whether the page shows the *Why?* explanation: its panel is open (``state["why"]``), or
    projector mode (which always shows the sentence). Only then is it computed."""
    return bool(state.get("why") or state.get("present"))


def why_views(expl: Any, measure: str, *, shown: bool, hidden: bool, failed: str, declined: str,
              split: Any) -> dict:
    """The *Why?* panel's outputs: its text and its two figures. Closed (``shown`` False): a
    short placeholder, and the figures left as they are (``no_update``: they are out of sight)."""
    if not shown:
        return {f"{ids.WHY_TEXT}.children": components.why_closed(measure),
                f"{ids.WATERFALL}.figure": no_update, f"{ids.DRIVERS}.figure": no_update}
    if hidden:
        wf = figures.hidden_figure("Hidden until the reveal.")
        drv = figures.hidden_figure("Hidden until the reveal.", height=260)
    else:
        wf, drv = figures.why_figures(expl)
    text = components.why_text(expl, measure, hidden=hidden, failed=failed, declined=declined, split=split)
    return {f"{ids.WHY_TEXT}.children": text, f"{ids.WATERFALL}.figure": wf, f"{ids.DRIVERS}.figure": drv}


def update_views(state: Mapping, prediction: str | None = None) -> dict:
    """Everything the page shows for ``state``: one simulate and, when the *Why?* panel shows it
    (:func:`explanation_shown`), one explain (both memoised; plus one simulate for scenario A
    when A/B is on). ``prediction`` is the class's choice in predict-then-reveal.

    Returns ``{"id.prop": value}`` for every output of :data:`UPDATE_OUTPUTS`.
    """
    t0 = time.perf_counter()
    model, positions, measures, _ = _env()
    st = {**default_state(positions, measures), **dict(state or {})}
    position = st.get("position") if st.get("position") in positions else positions[0]
    measure = st.get("measure") if st.get("measure") in measures else measures[0]
    tone = st.get("tone") or {}
    tight = st.get("tight") or {}
    coupling = bool(st.get("coupling", True))
    base = compute.baseline(position)
    res = compute.solve(tone, position, tight, coupling)
    split = compute.split(tone, position, tight, coupling)  # memoised: one coupling-off solve per scenario
    hidden = bool(st.get("predict")) and not st.get("reveal")
    failed = "" if res.ok else res.message
    shown = explanation_shown(st)
    expl, declined = (None, "") if hidden or failed or not shown else \
        compute.explain(tone, position, measure, tight, coupling)
    info = compute.measure_info()
    units = {k: v.unit for k, v in info.items()}
    present = bool(st.get("present"))
    view = st.get("view", "trunk")
    a = st.get("a") if isinstance(st.get("a"), Mapping) else None
    pair = bool(st.get("ab")) and a is not None
    notes = highlight_notes(st)
    sag = figures.side_figure(res, base, view=view, hidden=hidden, large=present, highlight=notes,
                              exaggerate=bool(st.get("exaggerate")), pair=pair,
                              title="B (now): side view" if pair else None)
    a_summary = None
    if a is not None:
        a_pos = a.get("position") if a.get("position") in positions else positions[0]
        a_coupling = bool(a.get("coupling", True))
        res_a = compute.solve(a.get("tone") or {}, a_pos, a.get("tight") or {}, a_coupling)
        a_summary = _summary(res_a, {"tone": a.get("tone") or {}, "tight": a.get("tight") or {}, "position": a_pos,
                                     "coupling": a_coupling}, units)
    if pair:
        sag_a = figures.side_figure(res_a, compute.baseline(a_pos), view=view, hidden=hidden, large=present,
                                    highlight=highlight_notes(a), exaggerate=bool(st.get("exaggerate")), pair=True,
                                    title="A (stored): side view")
    else:
        sag_a = figures.off_figure("Store a scenario as A, then tick “A/B side by side”.")
    front = figures.front_figure(res, base, view=view, hidden=hidden) if st.get("front") else \
        figures.off_figure("Front view: off")
    top = figures.top_figure(res, base, hidden=hidden) if st.get("top") else figures.off_figure("Top view: off")
    rows = plot.measure_rows(res.metrics, res.baseline_metrics, info) if not hidden else \
        plot.measure_rows(base.metrics, base.metrics, info)
    from .layout import graph_static

    patch, n_frames, frame_names = figures.graph_patch(compute.graph(), graph_static(), res, base,
                                                       expl.path if expl else (), hidden=hidden or not (tone or tight),
                                                       pos=compute.graph_positions(), compact=present)
    preset = preset_by_id(st["preset"]) if st.get("preset") else None
    if preset is not None:
        v = preset_verdict(preset.id)
        modified = (clean_tone(model, validate_tone(model, preset.tone)) != tone or preset.position != position
                    or (clean_tight(validate_tight(model, preset.tightness)) if preset.tightness else {}) != tight
                    or not coupling)
        catalogue = [c for c in (compute.claim_verdict(i) for i in preset.claims) if c]
        active = [components.preset_card(preset, v, hidden=hidden, modified=modified, button=False,
                                         catalogue=catalogue)]
    else:
        active = [html.P("No preset loaded: the claims below come from the seed articles; load one to test it.")]
    le = lesson_by_id(st.get("lesson")) if present else None
    classes = ["app"] + (["present"] if present else []) + (["predict"] if st.get("predict") else []) + \
        (["hidden-result"] if hidden else []) + (["revealed"] if st.get("predict") and st.get("reveal") else []) + \
        (["no-explanation"] if expl is None else []) + (["front-on"] if st.get("front") else []) + \
        (["top-on"] if st.get("top") else []) + (["ab-on"] if pair else []) + (["has-a"] if a else []) + \
        (["why-open"] if shown else [])
    ms_server = (time.perf_counter() - t0) * 1000
    status = (f"Baseline (resting tone), {position}." if not (tone or tight) else
              f"{'Solved' if res.ok else 'Failed'}: {res.message} ({ms_server:.0f} ms).")
    if not coupling:
        status = "Neural coupling off (mechanics only). " + status
    if hidden:
        status = "Predict first: the result is hidden until you press Reveal."
    summary = _summary(res, {**st, "position": position}, units, split)
    unit = units.get(measure, "")
    return {
        f"{ids.SAGITTAL}.figure": sag,
        f"{ids.SAGITTAL_A}.figure": sag_a,
        f"{ids.FRONTAL}.figure": front,
        f"{ids.TOP}.figure": top,
        f"{ids.MEASURES_DATA}.data": components.measures_table_data(rows, hidden=hidden, failed=bool(failed),
                                                                    split=split),
        f"{ids.SPLIT}.children": components.split_summary(split, measure, unit, hidden=hidden),
        f"{ids.PI_LL}.children": components.pi_ll_flag(res.metrics, hidden=hidden),
        f"{ids.KEY_MEASURES}.children": components.key_measures(rows, hidden=hidden, focus=measure if le else None),
        **why_views(expl, measure, shown=shown, hidden=hidden, failed=failed, declined=declined, split=split),
        f"{ids.WHY_TOGGLE}.children": "Hide the explanation" if st.get("why") else "Show the explanation",
        f"{ids.WHY_TOGGLE}.aria-expanded": "true" if shown else "false",
        f"{ids.GRAPH}.figure": patch,
        f"{ids.GRAPH_STEP}.max": max(n_frames - 1, 0),
        f"{ids.GRAPH_STEP}.value": max(n_frames - 1, 0),
        f"{ids.GRAPH_FRAME}.children": frame_names[-1] if frame_names else "no propagation (baseline)",
        f"{ids.RESULT}.data": summary,
        f"{ids.ACTIVE_PRESET}.children": active,
        f"{ids.ROOT}.className": " ".join(classes),
        f"{ids.STATUS}.children": status,
        f"{ids.PREDICT}.children": "Predict: on" if st.get("predict") else "Predict first",
        f"{ids.PRESENT}.children": "Exit projector" if present else "Projector",
        f"{ids.RESET}.children": "↺ Reset lesson" if le else "Reset to baseline",
        f"{ids.TIGHT_LIST}.children": components.tightness_list(tight, compute.tightness_joints()),
        f"{ids.PREDICTION_FEEDBACK}.children": prediction_feedback(prediction, st, summary),
        f"{ids.COMPARE}.children": components.compare_table(a_summary, summary, list(measures), units),
        f"{ids.LESSON_QUESTION}.children": components.lesson_question(le),
    }


#: Outputs of :func:`update_views`, in callback order.
UPDATE_OUTPUTS = (
    (ids.SAGITTAL, "figure"), (ids.SAGITTAL_A, "figure"), (ids.FRONTAL, "figure"), (ids.TOP, "figure"),
    (ids.MEASURES_DATA, "data"), (ids.SPLIT, "children"), (ids.PI_LL, "children"), (ids.KEY_MEASURES, "children"),
    (ids.WHY_TEXT, "children"), (ids.WATERFALL, "figure"), (ids.DRIVERS, "figure"), (ids.GRAPH, "figure"),
    (ids.GRAPH_STEP, "max"), (ids.GRAPH_STEP, "value"), (ids.GRAPH_FRAME, "children"), (ids.RESULT, "data"),
    (ids.ACTIVE_PRESET, "children"), (ids.ROOT, "className"), (ids.STATUS, "children"), (ids.PREDICT, "children"),
    (ids.PRESENT, "children"), (ids.RESET, "children"), (ids.TIGHT_LIST, "children"),
    (ids.PREDICTION_FEEDBACK, "children"), (ids.COMPARE, "children"), (ids.LESSON_QUESTION, "children"),
    (ids.WHY_TOGGLE, "children"), (ids.WHY_TOGGLE, "aria-expanded"),
)
#: Outputs that a change of the prediction choice alone leaves as they are.
_PREDICTION_ONLY = {f"{ids.PREDICTION_FEEDBACK}.children"}


def apply(trigger: Any, *, prediction: str | None = None, **controls) -> dict:
    """One control change, whole: :func:`next_state` then :func:`update_views` (the callback's
    single round trip). ``controls`` are :func:`next_state`'s keyword arguments. Returns
    ``{"next": next_state's answer, "views": update_views' answer}``; ``views`` is None when
    nothing but the prediction choice changed (only its feedback is recomputed then,
    ``{"feedback": ...}``)."""
    nxt = next_state(trigger, **controls)
    if trigger == ids.PREDICTION and controls.get("state") and nxt["state"] == dict(controls["state"]):
        return {"next": nxt, "views": None, "feedback": prediction_feedback(prediction, nxt["state"], None)}
    return {"next": nxt, "views": update_views(nxt["state"], prediction=prediction)}


# --------------------------------------------------------------------------- small views


def node_view(node: str | None) -> list:
    G = compute.graph()
    if not node or node not in G:
        return components.node_details(None, [])
    return components.node_details(node, plot.node_relations(G, node), G.nodes[node].get("kind", ""))


def prediction_feedback(choice: str | None, state: Mapping | None, result: Mapping | None) -> str:
    if not state or not state.get("predict"):
        return "Turn on “Predict first” to hide the result while the class predicts."
    measure = state.get("measure", "pelvic_tilt_deg")
    label = plot.measure_label(measure)
    if not state.get("reveal"):
        return (f"Which way will {label} move? " + (f"Prediction noted: {choice}. Press Reveal." if choice else
                                                      "Choose, then press Reveal."))
    if result is None:  # the choice changed alone: the (memoised) result of the state
        position = state.get("position") or compute.positions()[0]
        res = compute.solve(state.get("tone") or {}, position, state.get("tight") or {},
                            bool(state.get("coupling", True)))
        units = {k: v.unit for k, v in compute.measure_info().items()}
        result = _summary(res, {**state, "position": position}, units)
    if not result or result.get("metrics", {}).get(measure) is None:
        return "No result to compare with."
    d = result["metrics"][measure] - result["baseline"][measure]
    unit = plot.unit_symbol(result.get("units", {}).get(measure, ""))
    actual = "same" if abs(d) < plot.CHANGE_TOL else ("up" if d > 0 else "down")
    said = {"up": "goes up", "down": "goes down", "same": "stays the same"}
    verdict_txt = "" if not choice else (" — your prediction matches." if choice == actual else
                                         f" — you predicted it {said[choice]}.")
    return f"The model: {label} {said[actual]} ({d:+.1f} {unit}){verdict_txt}"


def export_csv(summary: Mapping) -> str:
    """Measures (value, baseline, change, unit, and the change's mechanics and assumed-coupling
    parts) then tones, activations, tightness, position, the neural coupling and its evidence, as
    CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["kind", "name", "value", "baseline", "change", "unit", "mechanics", "coupling"])
    mech, coup = summary.get("mechanics") or {}, summary.get("coupling") or {}
    for k, v in summary["metrics"].items():
        b = summary["baseline"].get(k)
        ch = None if v is None or b is None else round(v - b, 4)
        w.writerow(["measure", k, v, b, ch, summary.get("units", {}).get(k, ""), mech.get(k), coup.get(k)])
    model = compute.get_model()
    for mid in model.muscle_ids:
        w.writerow(["tone", mid, summary["tone"].get(mid, model.default_tone[mid]), model.default_tone[mid],
                    round(summary["tone"].get(mid, model.default_tone[mid]) - model.default_tone[mid], 4), "", "", ""])
    for mid, a in summary.get("activation", {}).items():
        w.writerow(["activation", mid, a, "", "", "", "", ""])
    for mid, deg in summary.get("tightness_deg", {}).items():
        w.writerow(["tightness", mid, deg, 0, deg, "deg", "", ""])
    w.writerow(["position", summary.get("position", ""), "", "", "", "", "", ""])
    w.writerow(["neural_coupling", "on" if summary.get("neural_coupling", True) else "off", "", "", "", "", "", ""])
    split = summary.get("split")
    if split:
        ev = split.get("evidence") or {}
        w.writerow(["coupling_evidence", ev.get("grade", ""), ev.get("label", ""), "", "", "", "", ""])
        w.writerow(["split", split.get("state", ""), split.get("message", ""), "", "", "", "", ""])
    return buf.getvalue()


def export_json(summary: Mapping) -> str:
    model = compute.get_model()
    out = dict(summary)
    out["tone_all"] = {m: summary["tone"].get(m, model.default_tone[m]) for m in model.muscle_ids}
    out["model"] = model.name
    return json.dumps(out, indent=2, allow_nan=False)


# --------------------------------------------------------------------------- wiring


def changed_only(new: Sequence, shown: Sequence | None) -> list:
    """What to send to a list of controls (a pattern-matching output) that shows ``shown``:
    ``new`` with the entries the browser already shows as ``no_update`` (Dash wants a list for
    such an output, even when nothing in it changes). Dash then handles, and the browser
    redraws, only the controls that move: a slider change moves one or two of the 39 sliders."""
    if shown is None or len(shown) != len(new):
        return list(new)
    return [v if v != s else no_update for v, s in zip(new, shown)]



def register(app) -> None:
    """Attach the callbacks to ``app``."""

    sync_outputs = [
        Output(ids.URL, "search"), Output({"type": ids.TONE, "muscle": ALL}, "value"),
        Output({"type": ids.LESSON_TONE, "name": ALL}, "value"), Output({"type": ids.LESSON_ROW, "name": ALL}, "className"),
        Output(ids.POSITION, "value"), Output(ids.MEASURE, "value"), Output(ids.VIEW, "value"), Output(ids.DRAW, "value"),
        Output(ids.LESSON, "value"), Output(ids.STATE, "data"), Output(ids.BANNER, "children"),
        Output(ids.TIGHT_DEG, "value"), Output(ids.COUPLING, "value"),
    ]
    view_outputs = [Output(i, p, allow_duplicate=(i == ids.GRAPH)) for i, p in UPDATE_OUTPUTS]

    @app.callback(
        *sync_outputs, *view_outputs,
        Input(ids.URL, "search"), Input({"type": ids.TONE, "muscle": ALL}, "value"),
        Input({"type": ids.LESSON_TONE, "name": ALL}, "value"), Input(ids.RESET, "n_clicks"),
        Input({"type": ids.PRESET_LOAD, "preset": ALL}, "n_clicks"), Input(ids.POSITION, "value"),
        Input(ids.MEASURE, "value"), Input(ids.VIEW, "value"), Input(ids.DRAW, "value"), Input(ids.LESSON, "value"),
        Input(ids.PRESENT, "n_clicks"), Input(ids.PREDICT, "n_clicks"), Input(ids.REVEAL, "n_clicks"),
        Input(ids.STORE_A, "n_clicks"), Input(ids.CLEAR_A, "n_clicks"), Input(ids.PREDICTION, "value"),
        Input(ids.TIGHT_MUSCLE, "value"), Input(ids.TIGHT_DEG, "value"), Input(ids.TIGHT_CLEAR, "n_clicks"),
        Input(ids.COUPLING, "value"), Input(ids.WHY_TOGGLE, "n_clicks"), State(ids.LINK, "value"),
        State(ids.STATE, "data"),
        prevent_initial_call="initial_duplicate",
    )
    def _apply(search, values, lesson_values, _reset, preset_clicks, position, measure, view, draw, lesson,
               _present, _predict, _reveal, _store, _clear, prediction, tight_muscle, tight_deg, _tclear,
               coupling, _why, link, state):
        # the sliders' ids come with their values (no State lists of them: Dash's handling of each
        # pattern-matched entry costs server time on every change)
        slider_ids, lesson_ids = ([e["id"] for e in entries] for entries in ctx.inputs_list[1:3])
        trigger = ctx.triggered_id
        if isinstance(trigger, Mapping) and trigger.get("type") == ids.PRESET_LOAD and not any(preset_clicks or []):
            trigger = "ignored"  # buttons re-rendered, not clicked
        out = apply(trigger, prediction=prediction, search=search, values=values, slider_ids=slider_ids,
                    position=position, measure=measure, view=view, link=link, state=state,
                    tight_muscle=tight_muscle, tight_deg=tight_deg, lesson_values=lesson_values,
                    lesson_ids=lesson_ids, lesson=lesson, draw=draw, coupling=coupling)
        n = out["next"]
        same_lesson = bool(state) and n["state"].get("lesson") == state.get("lesson")  # rows follow the lesson
        rows = [no_update] * len(n["lesson_rows"]) if same_lesson else n["lesson_rows"]
        sync = (n["search"] if n["search"] != (search or "") else no_update, changed_only(n["values"], values),
                changed_only(n["lesson_values"], lesson_values), rows,
                n["position"], n["measure"], n["view"], n["draw"], n["lesson"], n["state"],
                components.banner(n["messages"]), n["tight_deg"], n["coupling"])
        if out["views"] is None:
            return sync + tuple(out["feedback"] if f"{i}.{p}" in _PREDICTION_ONLY else no_update
                                for i, p in UPDATE_OUTPUTS)
        return sync + tuple(out["views"][f"{i}.{p}"] for i, p in UPDATE_OUTPUTS)

    @app.callback(Output({"type": ids.PRESET_VERDICT, "preset": ALL}, "children"),
                  Input(ids.URL, "pathname"), State({"type": ids.PRESET_VERDICT, "preset": ALL}, "id"))
    def _verdicts(_path, verdict_ids):
        out = []
        for vid in verdict_ids:
            v = preset_verdict(vid["preset"])
            out.append(components.verdict_badge(v) if v else "not available")
        return out

    @app.callback(Output(ids.NODE_DETAILS, "children"), Output(ids.NODE_SELECT, "value"),
                  Input(ids.GRAPH, "clickData"), Input(ids.NODE_SELECT, "value"))
    def _node(click, selected):
        node = selected
        if ctx.triggered_id == ids.GRAPH and click:
            pt = (click.get("points") or [{}])[0]
            node = pt.get("customdata") if isinstance(pt.get("customdata"), str) else None
            if node is None:
                return no_update, no_update
        return node_view(node), node if node != selected else no_update

    @app.callback(Output(ids.DOWNLOAD, "data"), Input(ids.EXPORT_CSV, "n_clicks"), Input(ids.EXPORT_JSON, "n_clicks"),
                  State(ids.RESULT, "data"), prevent_initial_call=True)
    def _export(_csv, _json, result):
        if not result:
            return no_update
        if ctx.triggered_id == ids.EXPORT_CSV:
            return {"content": export_csv(result), "filename": "musclesim_scenario.csv", "type": "text/csv"}
        return {"content": export_json(result), "filename": "musclesim_scenario.json", "type": "application/json"}

    # the measures table is drawn in the browser from each update's cells and the page's fixed parts
    app.clientside_callback(ClientsideFunction("musclesim", "measuresTable"), Output(ids.MEASURES_TABLE, "children"),
                            Input(ids.MEASURES_DATA, "data"), State(ids.MEASURES_STATIC, "data"),
                            prevent_initial_call=True)
    # the graph's propagation frames are stepped in the browser (no server round trip)
    app.clientside_callback(ClientsideFunction("musclesim", "showFrame"),
                            Output(ids.GRAPH, "figure", allow_duplicate=True), Output(ids.GRAPH_FRAME, "children",
                                                                                      allow_duplicate=True),
                            Input(ids.GRAPH_STEP, "value"), State(ids.GRAPH, "figure"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("musclesim", "togglePlay"),
                            Output(ids.GRAPH_TIMER, "disabled"), Output(ids.GRAPH_PLAY, "children"),
                            Output(ids.GRAPH_STEP, "value", allow_duplicate=True),
                            Input(ids.GRAPH_PLAY, "n_clicks"), State(ids.GRAPH_TIMER, "disabled"),
                            State(ids.GRAPH_STEP, "value"), State(ids.GRAPH_STEP, "max"), prevent_initial_call=True)
    app.clientside_callback(ClientsideFunction("musclesim", "nextFrame"),
                            Output(ids.GRAPH_STEP, "value", allow_duplicate=True),
                            Output(ids.GRAPH_TIMER, "disabled", allow_duplicate=True),
                            Output(ids.GRAPH_PLAY, "children", allow_duplicate=True),
                            Input(ids.GRAPH_TIMER, "n_intervals"), Input(ids.GRAPH_NEXT, "n_clicks"),
                            State(ids.GRAPH_STEP, "value"), State(ids.GRAPH_STEP, "max"),
                            State(ids.GRAPH_TIMER, "disabled"), prevent_initial_call=True)
