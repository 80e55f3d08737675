"""HTML fragments built from data (tables, cards, messages): pure, no callbacks."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from dash import dcc, html

from musclesim import plot

from . import ids
from .presets import Preset, describe_row

#: The measures shown as big numbers in presentation mode.
KEY_MEASURES = ("pelvic_tilt_deg", "lumbar_lordosis_deg", "thoracic_kyphosis_deg", "head_forward_mm")
VERDICT_CLASS = {"reproduced": "verdict-yes", "partly reproduced": "verdict-partly", "not reproduced": "verdict-no",
                 "outside the model's scope": "verdict-scope", "no stable posture": "verdict-no",
                 "outside scope": "verdict-scope", "contradicted by another article": "verdict-partly"}


def _digits(unit: str) -> int:
    return 0 if unit in ("N", "mm") else 1


def _changed(change: float | None, unit: str) -> bool:
    """Whether a change shows as non-zero at the precision the page prints."""
    return change is not None and math.isfinite(change) and round(change, _digits(unit)) != 0 \
        and abs(change) >= plot.CHANGE_TOL


def _num(v: float | None, unit: str, signed: bool = False) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "—"
    u = plot.unit_symbol(unit)
    digits = _digits(unit)
    s = f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"
    return f"{s}{u}" if u == "°" else f"{s} {u}".rstrip()


# --------------------------------------------------------------------------- mechanics / coupling split

#: Plain words for the two parts of a change (the split's definition: musclesim.attribution).
MECHANICS_WORDS = ("mechanics: what the muscles, bones and gravity do with the tones as set "
                   "(the same scenario solved with the neural coupling switched off)")
COUPLING_WORDS = ("assumed coupling: the model assumes a tone change spreads to the opposing muscles "
                  "(reciprocal inhibition, less tone) and the helping ones (synergist co-activation, more "
                  "tone); its size is a guess, not a measurement")


def _split_data(split: Any) -> Mapping | None:
    """``split`` as plain data (:func:`dashboard.compute.split`'s form): a mapping with ``state``,
    ``message``, ``evidence`` and ``measures``, or anything with ``as_dict()`` (a
    :class:`musclesim.attribution.Split`)."""
    if split is None:
        return None
    if hasattr(split, "as_dict"):
        split = split.as_dict()
    return split


def _finite(v: Any) -> bool:
    return isinstance(v, (int, float)) and math.isfinite(v)


def split_parts(row: Mapping, unit: str, short: bool = False) -> tuple[str, str, str] | None:
    """``(total, mechanics, coupling)`` as the page prints them (signed, with the unit; ``short``:
    only a degree sign, for the measures table's narrow columns), rounded so that the printed
    parts add up to the printed total exactly: the total and the mechanics are rounded to the
    page's precision, the coupling is the printed total minus the printed mechanics (so it is
    within one last digit of its own rounding). None when a part is unknown."""
    total, mech = row.get("total"), row.get("mechanics")
    if not (_finite(total) and _finite(mech)):
        return None
    d = _digits(unit)
    scale = 10 ** d
    t = round(float(f"{total:.{d}f}") * scale)  # as printed (the measures table's change column)
    m = round(float(f"{mech:.{d}f}") * scale)
    c = t - m

    def fmt(k: int) -> str:
        if short and plot.unit_symbol(unit) != "°":
            return f"{k / scale:+.{d}f}"
        return _num(k / scale, unit, signed=True)

    return fmt(t), fmt(m), fmt(c)


def split_text(split: Any, measure: str, unit: str, *, hidden: bool = False) -> dict:
    """What the page says about one measure's split, as plain text:
    ``{"headline", "evidence", "message", "parts"}``.

    ``headline`` reads "Pelvic tilt +3.9° = +0.8° mechanics + 3.1° assumed coupling" (None when
    the parts are unknown or there is no change); ``evidence`` the coupling's evidence in plain
    words ("assumed coupling — estimate, unsourced; evidence: none"), or that it is switched off;
    ``message`` replaces the numbers when the split could not be computed (the API's reason), or
    says there is nothing to split; ``parts`` the printed ``(total, mechanics, coupling)``.
    """
    label = plot.measure_label(measure)
    label = label[:1].upper() + label[1:]
    out = {"headline": None, "evidence": "", "message": "", "parts": None}
    if hidden:
        out["message"] = "How much is mechanics and how much assumed coupling: hidden until the reveal."
        return out
    sp = _split_data(split)
    if not sp or measure not in (sp.get("measures") or {}):
        out["message"] = f"{label}: no split into mechanics and assumed coupling for this scenario."
        return out
    state = sp.get("state", "")
    ev = sp.get("evidence") or {}
    if state == "off":
        out["evidence"] = "neural coupling switched off: all of the change is mechanics"
    else:
        out["evidence"] = (f"assumed coupling — {ev.get('label', 'not graded')}; "
                           f"evidence: {ev.get('grade', 'not graded')}")
        if state == "no effect":
            out["evidence"] += " (here it changed no muscle's tone: all of the change is mechanics)"
    row = sp["measures"][measure]
    parts = split_parts(row, unit) if state != "failed" else None
    if parts is None:
        msg = sp.get("message") or "the split could not be computed"
        out["message"] = f"{label}: how much is mechanics and how much assumed coupling is unknown — {msg}"
        return out
    total, mech, coup = parts
    out["parts"] = parts
    zero = _num(0.0, unit, signed=True)
    if total == zero and mech == zero and coup == zero:
        out["message"] = f"{label}: no change from the baseline, so nothing to split."
        out["evidence"] = ""  # nothing to grade
        return out
    sign, mag = ("−", coup[1:]) if coup.startswith("-") else ("+", coup.lstrip("+"))
    out["headline"] = f"{label} {total} = {mech} mechanics {sign} {mag} assumed coupling"
    return out


def split_summary(split: Any, measure: str, unit: str, *, hidden: bool = False, explain: bool = False) -> list:
    """The split of one measure's change for the page: the headline (or the message), the
    coupling's evidence, and with ``explain`` what the two parts mean in plain words."""
    t = split_text(split, measure, unit, hidden=hidden)
    if t["headline"] is None:
        return [html.P(t["message"], className="split-message")] + \
            ([html.P(t["evidence"], className="split-evidence")] if t["evidence"] and not hidden else [])
    total, mech, coup = t["parts"]
    items = [html.P(t["headline"], className="split-headline",
                    **{"data-total": total, "data-mechanics": mech, "data-coupling": coup, "data-measure": measure}),
             html.P(t["evidence"], className="split-evidence")]
    if explain:
        items.append(html.P([MECHANICS_WORDS[:1].upper() + MECHANICS_WORDS[1:], ". ",
                             COUPLING_WORDS[:1].upper() + COUPLING_WORDS[1:], "."], className="note split-words"))
    return items


def banner(messages: Sequence[str]) -> list:
    """The message banner's children (empty when there is nothing to say)."""
    if not messages:
        return []
    return [html.Strong("Could not use the link as given: "), html.Ul([html.Li(m) for m in messages])]


#: The measures table's groups: (title, planes), in order.
MEASURE_GROUPS = (("Side view (sagittal)", ("sagittal",)),
                  ("Left-right (frontal and transverse; standing only)", ("frontal", "transverse")))


def _group_of(plane: str | None) -> str:
    return next((t for t, planes in MEASURE_GROUPS if (plane or "sagittal") in planes), "Other")


def measures_static(measures: Mapping[str, Any]) -> dict:
    """What the measures table shows that never changes, sent once with the page (the browser
    draws the table from it and :func:`measures_table_data`, ``dashboard.js`` ``measuresTable``):
    ``{"groups": [group titles in order], "head": {"mechanics", "coupling"} (the hovers of the
    split columns), "measures": {name: [label, meaning, normal band, its source, group]}}``."""
    fixed = {}
    for name, info in measures.items():
        band = tuple(info.normal) if info.normal else None
        fixed[name] = [plot.measure_label(name), info.meaning or "", f"{band[0]:g} – {band[1]:g}" if band else "—",
                       info.normal_source or "no normal band", _group_of(getattr(info, "plane", "sagittal"))]
    return {"groups": [t for t, _ in MEASURE_GROUPS] + ["Other"], "measures": fixed,
            "head": {"mechanics": MECHANICS_WORDS + " (in the change's unit)", "coupling": COUPLING_WORDS}}


def _measure_cells(r: Mapping, part: Mapping | None, *, hidden: bool, failed: bool, split_failed: bool) -> list:
    """One measure's row as printed: ``[name, value, change, mechanics, coupling, flag, class]``."""
    if hidden:
        return [r["name"], "?", "?", "?", "?", "", ""]
    changed = _changed(r["change"], r["unit"])
    lateral = r.get("plane") in ("frontal", "transverse")
    flag = {"high": "▲ above normal", "low": "▼ below normal",
            "n/a": "no posture" if failed else ("standing only" if lateral else "not defined here")}.get(r["flag"], "")
    cls = ("out-of-band " if r["flag"] in ("high", "low") else "") + ("changed" if changed else "")
    if r["flag"] == "n/a" and lateral and not failed:
        cls += " not-modelled"
    mech = coup = ""
    if changed and part is not None:
        shown = None if split_failed else split_parts(part, r["unit"], short=True)
        mech, coup = shown[1:] if shown else ("—", "—")
    change = _num(r["change"], r["unit"], signed=True) if changed else "="
    return [r["name"], _num(r["value"], r["unit"]), change, mech, coup, flag, cls.strip()]


def measures_table_data(rows: Sequence[Mapping], *, hidden: bool = False, failed: bool = False,
                        split: Any = None) -> dict:
    """The measures table of one update, as data (the browser draws it with the page's
    :func:`measures_static`): every measure's value, change from baseline, the change's mechanics
    and assumed-coupling parts (``split``: :func:`dashboard.compute.split`), flag and row class,
    as printed. ``{"grade": the coupling's evidence grade, "rows": [[name, value, change,
    mechanics, coupling, flag, class]]}`` in ``rows`` order (the browser groups them into the
    side-view measures and the left-right ones, :data:`MEASURE_GROUPS`)."""
    sp = _split_data(split) or {}
    parts_of = sp.get("measures") or {}
    split_failed = sp.get("state") == "failed"
    return {"grade": str((sp.get("evidence") or {}).get("grade", "not graded")),
            "rows": [_measure_cells(r, parts_of.get(r["name"]), hidden=hidden, failed=failed,
                                    split_failed=split_failed) for r in rows]}


def pi_ll_flag(metrics: Mapping[str, float], *, hidden: bool = False) -> list:
    if hidden:
        return [html.Span("PI − LL: hidden until reveal")]
    v, bad = plot.pi_ll_mismatch(metrics)
    if v is None:
        return []
    if bad:
        return [html.Span("⚠ PI − LL mismatch: ", className="warn"),
                html.Span(f"{v:+.1f}° (beyond ±10°, Schwab's non-pathologic limit)")]
    return [html.Span(f"PI − LL {v:+.1f}°: within ±10° (no spinopelvic mismatch)")]


def lesson_question(lesson: Any) -> list:
    """The lesson's title and prediction question (projector mode)."""
    if lesson is None:
        return []
    return [html.H2(lesson.title, className="lesson-title"), html.P(lesson.question, className="lesson-ask")]


def key_measures(rows: Sequence[Mapping], *, hidden: bool = False, focus: str | None = None) -> list:
    """Big-number tiles for presentation mode; ``focus`` (a lesson's measure) comes first."""
    by = {r["name"]: r for r in rows}
    tiles = []
    names = list(KEY_MEASURES)
    if focus and focus in by:
        names = [focus] + [n for n in names if n != focus][: len(KEY_MEASURES) - 1]
    for name in names:
        r = by.get(name)
        if r is None:
            continue
        val = "?" if hidden else _num(r["value"], r["unit"])
        if hidden or r["change"] is None:
            ch = ""
        elif not _changed(r["change"], r["unit"]):
            ch = "= baseline"
        else:
            ch = _num(r["change"], r["unit"], signed=True)
        tiles.append(html.Div([html.Div(r["label"], className="tile-label"), html.Div(val, className="tile-value"),
                               html.Div(ch, className="tile-change" + (" same" if ch == "= baseline" else ""))],
                              className="tile" + (" out-of-band" if r["flag"] in ("high", "low") and not hidden else ""),
                              **{"data-measure": name}))
    return tiles


def why_closed(measure: str) -> list:
    """What the *Why?* panel holds while closed (out of sight; nothing is explained then)."""
    return [html.P(f"Press “Show the explanation” to see why {plot.measure_label(measure)} changed.",
                   className="note")]


def why_text(expl: Any, measure: str, *, hidden: bool = False, failed: str = "", declined: str = "",
             split: Any = None) -> list:
    """The *Why?* panel's text: the API's sentence, the graph path, and the change split into
    mechanics and assumed coupling (``split``: :func:`dashboard.compute.split`)."""
    label = plot.measure_label(measure)
    if hidden:
        return [html.P(f"The explanation of {label} appears after the reveal.")]
    if failed:
        return [html.P(["No stable posture for this tone, so there is nothing to explain: ", html.Em(failed)])]
    if declined:
        return [html.P(["No explanation for this scenario yet: ", html.Em(declined), "."])]
    if expl is None:
        return [html.P(f"{label.capitalize()} is at its baseline value: move a slider or load a preset, then "
                       "this panel explains the change.")]
    if abs(expl.change) < plot.CHANGE_TOL:
        return [html.P(f"{label.capitalize()} stays at {expl.value:.1f} {plot.unit_symbol(expl.unit)} in this scenario: "
                       "there is no change to explain. Choose another measure to see why it moved.")]
    items = [html.P(expl.text, className="why-sentence")]
    if expl.path:
        items.append(html.P(["Path through the graph: ", html.Code(" → ".join(expl.path))], className="why-path"))
    if abs(expl.nonlinear_remainder) > 0.1 * max(abs(expl.change), 1e-9):
        items.append(html.P(f"The drivers add up to a linear estimate of {expl.linear_estimate:+.2f}; the full solve "
                            f"differs by {expl.nonlinear_remainder:+.2f} (the response is not linear at this size).",
                            className="note"))
    if split is not None:
        items.append(html.Div(split_summary(split, measure, expl.unit, explain=True), className="why-split"))
    return items


def preset_card(preset: Preset, verdict: Mapping | None, *, hidden: bool = False, modified: bool = False,
                button: bool = True, catalogue: Sequence[Mapping] = ()) -> html.Div:
    """A preset: title, claim, articles, evidence grade and note, the model's verdict."""
    parts: list = [html.H4(preset.title), html.P(preset.claim, className="claim")]
    parts.append(html.P(["Articles: ", *[html.Code(a, className="article") for a in preset.articles]],
                        className="articles"))
    parts.append(html.P([html.Span(f"Evidence: {preset.evidence_grade}", className=f"grade grade-{preset.evidence_grade}"),
                         " ", preset.evidence_note], className="evidence"))
    if preset.disagreement:
        parts.append(html.P(["Articles disagree: ", preset.disagreement], className="disagree"))
    if verdict is not None:
        if hidden:
            parts.append(html.P("Model verdict: hidden until the reveal.", className="verdict verdict-hidden"))
        else:
            parts.append(html.P(["Model verdict: ", html.Strong(verdict["verdict"])],
                                className="verdict " + VERDICT_CLASS.get(verdict["verdict"], "")))
            parts.append(html.Ul([html.Li(describe_row(r)) for r in verdict["rows"]], className="verdict-rows"))
            if modified:
                parts.append(html.P("You changed the scenario (tones, position or neural coupling) since loading "
                                    "this preset: the verdict is for the preset as loaded.", className="note"))
            if catalogue:
                parts.append(html.Details([
                    html.Summary(f"Claims catalogue ({len(catalogue)} related claims)"),
                    html.Ul([html.Li([html.Strong(c["id"]), f" {c['claim']} ", html.Span(c["verdict"], className="verdict "
                                      + VERDICT_CLASS.get(c["verdict"], "verdict-scope")),
                                      html.Div(c["reason"], className="note")]) for c in catalogue]),
                ], className="catalogue"))
    if button:
        parts.append(html.Button("Load", id=ids.preset_load(preset.id), className="btn",
                                 **{"aria-label": f"Load preset: {preset.title}"}))
    return html.Div(parts, className="preset-card", **{"data-preset": preset.id})


def verdict_badge(verdict: Mapping) -> list:
    return [html.Span(verdict["verdict"], className="verdict " + VERDICT_CLASS.get(verdict["verdict"], ""))]


def node_details(node: str | None, rows: Sequence[Mapping], kind: str = "") -> list:
    """Relations of one graph node and their evidence."""
    if not node:
        return [html.P("Click a node in the graph (or choose one here) to see its relations and the evidence.")]
    if not rows:
        return [html.P(f"{node}: no edges.")]
    rel = [r for r in rows if r["edge"] == "relation"]
    other = [r for r in rows if r["edge"] != "relation"]
    items = [html.H4(f"{node} ({kind})" if kind else node)]
    if rel:
        lis = []
        for r in rel:
            txt = [html.Strong(r["kind"]), f" with {r['other']}"]
            if r["contradicted"]:
                txt.append(html.Span(" — documented, but " + (r["note"] or "contradicted by the geometry"),
                                     className="warn"))
            elif r["note"]:
                txt.append(html.Span(f" — documented; {r['note']}", className="note"))
            lis.append(html.Li(txt + [html.Ul([html.Li(e) for e in r["evidence"]])]))
        items += [html.P("Relations:"), html.Ul(lis)]
    if other:
        items += [html.P("Edges:"), html.Ul([html.Li(f"{r['edge']} {r['other']}" + (f" ({r['kind']})" if r["kind"] else "")
                                                     + ("; " + "; ".join(r["evidence"]) if r["evidence"] else ""))
                                             for r in other])]
    return items


def compare_table(a: Mapping | None, b: Mapping | None, names: Sequence[str], units: Mapping[str, str]) -> list:
    """Scenario A (stored) against the current scenario B."""
    if not a:
        return [html.P("Press “Store as A” to keep the current scenario; then change the tones and compare.")]
    if not b:
        return [html.P("No current result.")]
    rows = plot.compare_rows(a["metrics"], b["metrics"], names)
    head = html.Thead(html.Tr([html.Th("measure", scope="col"), html.Th("A", scope="col"), html.Th("B (now)", scope="col"),
                               html.Th("B − A", scope="col")]))
    body = [html.Tr([html.Th(r["label"], scope="row"), html.Td(_num(r["a"], units.get(r["name"], "")), className="num"),
                     html.Td(_num(r["b"], units.get(r["name"], "")), className="num"),
                     html.Td(_num(r["diff"], units.get(r["name"], ""), signed=True), className="num")])
            for r in rows]
    return [html.P([html.Strong("A: "), tone_summary(a), html.Br(), html.Strong("B: "), tone_summary(b)]),
            html.Table([head, html.Tbody(body)], className="measures compare")]


def tone_summary(summary: Mapping) -> str:
    tone = summary.get("tone") or {}
    txt = ", ".join(f"{k} {v:g}" for k, v in tone.items()) or "baseline tone"
    tight = summary.get("tightness_deg") or {}
    if tight:
        txt += "; tight: " + ", ".join(f"{k} {v:g}°" for k, v in tight.items())
    off = "" if summary.get("neural_coupling", True) else "; neural coupling off"
    return f"{txt}; {summary.get('position', '')}{off}"


def tightness_list(tight: Mapping[str, float], joints: Mapping[str, str]) -> list:
    """The contractures in force, with the joint each is measured at."""
    if not tight:
        return [html.P("No tightness set.", className="note")]
    return [html.Ul([html.Li(f"{m.replace('_', ' ')}: {v:g}° of motion lost" + (f" at the {joints[m]}" if m in joints else ""))
                     for m, v in tight.items()])]


def help_section(teaching_md: str | None) -> html.Details:
    guide = dcc.Markdown(teaching_md, className="teaching") if teaching_md else html.P(
        "The teaching guide is docs/teaching.md in the musclesim repository.")
    return html.Details([
        html.Summary("Help and teaching guide"),
        dcc.Markdown(HELP_TEXT),
        html.P(["Teaching guide (three ready lessons): ", html.A("docs/teaching.md", href="/teaching.md", target="_blank"),
                " — also shown below."]),
        html.Details([html.Summary("Teaching guide"), guide]),
    ], id=ids.HELP, className="help")


HELP_TEXT = """
**Moving a muscle.** Each slider sets a muscle's *resting tone* (0 = silent, 1 = fully active); the number
box next to it takes typed values. Tab to a slider and use the arrow keys (0.01 a step). With *Link left and
right* on, moving one side moves the other too. *Reset* returns to the baseline.

**Reading the result.** The side view shows the solved posture (baseline in grey behind) with the changed
angles labelled; the muscles you changed are magenta, with arrowheads along their line of pull; the others'
colour and width show force. *Exaggerate changes ×3* draws a small change larger (the numbers stay true);
*Front view* and *Top view* add the left-right pictures. The measures table gives every measure with its
normal band (hover the band for its source); values outside it are flagged. The *Why* panel explains one
measure: which muscles drove it, how the moments at the key joint changed, and the path through the graph.

**Mechanics and assumed coupling.** Each change is split in two: "Pelvic tilt +3.9° = +0.8° mechanics + 3.1°
assumed coupling". *Mechanics* is what muscles, bones and gravity do with the tones as set; *assumed coupling* is
what the model adds by assuming a tone change spreads to the opposing muscles (less tone) and the helping ones
(more tone). How large that spread is has not been measured (evidence: none), so read that part as a question.
Untick *Neural coupling (assumed)* above the sliders to solve with mechanics only.

**The graph.** Bones and joints in the middle, muscles on both sides, measures on the right; press *Play*
to watch a change spread from the muscle you moved to the bones and measures. Click a node (or pick it from
the list) for its relations and the evidence behind them.

**Class use.** Every setting is in the page address: copy it to share the exact view. *Predict first* hides
the result until you press *Reveal*. *Store as A* keeps a scenario for side-by-side comparison.
*Projector* (or `?lesson=desk_sitter`) is the lesson mode for a projector: big sliders for the lesson's muscles
only, a reset, predict-then-reveal, play/pause/step for the propagation and A/B side by side, all by keyboard. *CSV* / *JSON* download the numbers; each figure's
camera button saves a PNG.

**The front view** (tick *Front view*). Next to the side view, the body seen from the front: its left is on your right. Left-right
effects are small (often under a degree, a few millimetres), so the front view draws them several times
larger and says how many; the numbers in the figure and the table are true. *Top view* shows the pelvis from
above, for pelvic rotation. The left-right posture is modelled standing only.

**Limits.** The left-right measures exist standing only; lying, they show "standing only". The articles'
claims are claims; the verdicts come from the model, the evidence grades from the research literature.
"""
