"""The dashboard's view state and its URL form (pure functions, no Dash).

The whole view is a small dict, kept in a ``dcc.Store`` and mirrored in the URL query string so
a copied link reproduces it::

    {"tone": {muscle id: value}, "tight": {muscle id: degrees}, "position": str, "measure": str,
     "present": bool, "predict": bool, "reveal": bool, "preset": str | None, "view": "trunk" | "body",
     "lesson": str | None, "exaggerate": bool, "front": bool, "top": bool, "ab": bool, "why": bool,
     "coupling": bool, "a": {"tone": {...}, "tight": {...}, "position": str, "coupling": bool} | None}

``tone`` holds only the muscles whose tone differs from the model's default, ``tight`` only the
muscles with a contracture (degrees of motion lost, the API's ``tightness=``). In the URL each
tone is a plain ``name=value`` pair (``?psoas_major_left=0.6``) and each tightness a
``tight.name=degrees`` pair (``?tight.psoas_major=10``); any name the API accepts works
(``psoas_major=0.6`` sets both sides), checked by the API's own rules. The stored scenario A of
an A/B comparison is written the same way behind ``a.`` (``a.psoas_major=0.4``,
``a.tight.iliacus=10``, ``a.position=supine``, ``a.coupling=0``; ``a=1`` alone: A is the baseline).
``coupling`` is the neural tone coupling (``simulate(..., coupling=...)``): on by default, so only
``coupling=0`` appears in a URL. The other keys are reserved: ``position``, ``measure``,
``present``, ``predict``, ``reveal``, ``preset``, ``view``, ``lesson``, ``exaggerate``, ``front``,
``top``, ``ab``, ``why`` (the *Why?* panel's explanation shown: ``why=1``), ``coupling``.
Bad input never raises: :func:`parse_query` returns the state it could read with tone and
tightness reset to the baseline, and the messages to show.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlencode

FLAGS = ("present", "predict", "reveal", "exaggerate", "front", "top", "ab", "why")
#: Flags that are on unless the URL turns them off (``coupling=0``).
ON_FLAGS = ("coupling",)
RESERVED = ("position", "measure", "preset", "view", "lesson", *FLAGS, *ON_FLAGS)
TIGHT_PREFIX = "tight."
A_PREFIX = "a."
VIEWS = ("trunk", "body")
DEFAULT_MEASURE = "pelvic_tilt_deg"
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}
#: Tones are kept to this many decimals (the sliders step by 0.01).
TONE_DECIMALS = 3


def default_state(positions: Sequence[str], measures: Sequence[str]) -> dict:
    """The baseline view: default tone, the first position, pelvic tilt selected."""
    return {"tone": {}, "tight": {}, "position": positions[0],
            "measure": DEFAULT_MEASURE if DEFAULT_MEASURE in measures else measures[0],
            "present": False, "predict": False, "reveal": False, "preset": None, "view": VIEWS[0],
            "lesson": None, "exaggerate": False, "front": False, "top": False, "ab": False, "why": False,
            "coupling": True, "a": None}


def clean_tone(model, tone: Mapping[str, float]) -> dict[str, float]:
    """``{muscle id: value}`` for the muscles whose tone differs from the model's default."""
    out = {}
    for mid in model.muscle_ids:
        if mid in tone:
            v = round(float(tone[mid]), TONE_DECIMALS)
            if abs(v - model.default_tone[mid]) > 1e-9:
                out[mid] = v
    return out


def clean_tight(tight: Mapping[str, float]) -> dict[str, float]:
    """``{muscle id: degrees}`` without the zeros, in a stable order."""
    return {k: round(float(v), 2) for k, v in sorted(tight.items()) if abs(float(v)) > 1e-9}


def _numbers(request: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in request.items():
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass  # left as text: the API reports it as out of range
        out[name] = value
    return out


def validate_tight(model, tight: Mapping[str, Any]) -> dict[str, float]:
    """Resolve ``{name: degrees}`` with the API's rules (:func:`musclesim.tone.resolve_tightness`)."""
    from musclesim.tone import resolve_tightness

    return resolve_tightness(model, _numbers(tight))


def validate_tone(model, tone: Mapping[str, Any]) -> dict[str, float]:
    """Resolve ``{name: value}`` to ``{muscle id: value}`` with the API's own rules.

    Raises the API's :class:`~musclesim.errors.UnknownMuscleError` or
    :class:`~musclesim.errors.ToneRangeError`. Strings that parse as numbers are accepted (a URL
    carries text).
    """
    from musclesim.tone import resolve

    return resolve(model, _numbers(tone))


def _flag(key: str, value: str, errors: list[str], default: bool = False) -> bool:
    """A 1/0 (true/false, yes/no, on/off) URL value; anything else is a message and ``default``."""
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE and (v or not default):  # an empty value of an on-by-default flag is not "off"
        return False
    if key in ON_FLAG_WORDS:
        errors.append(f"'{key}={value}' is not understood ({ON_FLAG_WORDS[key]}: use 1 for on or 0 for off); "
                      f"using {int(default)} ({'on' if default else 'off'}).")
    else:
        errors.append(f"'{key}={value}' is not understood (use 1 or 0); using {int(default)}.")
    return default


#: What the on-by-default flags mean, for the messages about bad values.
ON_FLAG_WORDS = {"coupling": "the neural tone coupling", "a.coupling": "scenario A's neural tone coupling"}


def parse_query(search: str | None, model, positions: Sequence[str], measures: Sequence[str],
                presets: Sequence[str] = (), lessons: Sequence[str] = ()) -> tuple[dict, list[str]]:
    """The state a URL query string describes, and the messages about what could not be used.

    Any bad tone (unknown name, value outside [0, 1], not a number) resets every tone to the
    baseline: a half-applied link would show a scenario nobody asked for.
    """
    from musclesim.errors import MusclesimError

    state = default_state(positions, measures)
    errors: list[str] = []
    query = (search or "").lstrip("?")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=False, max_num_fields=400)
    except ValueError as exc:
        return state, [f"The link's settings could not be read ({exc}); showing the baseline."]
    tone: dict[str, str] = {}
    tight: dict[str, str] = {}
    a_tone: dict[str, str] = {}
    a_tight: dict[str, str] = {}
    a_position, a_coupling, has_a = None, True, False
    for key, value in pairs:
        key = key.strip()
        if key == "a" or key.startswith(A_PREFIX):
            has_a = True
            sub = key[len(A_PREFIX):]
            if key == "a":
                pass
            elif sub == "position":
                if value in positions:
                    a_position = value
                else:
                    errors.append(f"Unknown position {value!r} for scenario A; using {positions[0]}.")
            elif sub in ON_FLAGS:
                a_coupling = _flag(key, value, errors, default=True)
            elif sub.startswith(TIGHT_PREFIX):
                a_tight[sub[len(TIGHT_PREFIX):]] = value
            else:
                a_tone[sub] = value
        elif key.startswith(TIGHT_PREFIX):
            tight[key[len(TIGHT_PREFIX):]] = value
        elif key == "position":
            if value in positions:
                state["position"] = value
            else:
                errors.append(f"Unknown position {value!r}; this model offers {', '.join(positions)}. Using {positions[0]}.")
        elif key == "measure":
            if value in measures:
                state["measure"] = value
            else:
                errors.append(f"Unknown measure {value!r}; showing {state['measure']}.")
        elif key == "preset":
            if value in presets:
                state["preset"] = value
            elif value:
                errors.append(f"Unknown preset {value!r}.")
        elif key == "view":
            if value in VIEWS:
                state["view"] = value
            else:
                errors.append(f"Unknown view {value!r} (use {' or '.join(VIEWS)}).")
        elif key == "lesson":
            if value in lessons:
                state["lesson"] = value
            elif value:
                errors.append(f"Unknown lesson {value!r}" + (f" (lessons: {', '.join(lessons)})." if lessons else "."))
        elif key in FLAGS:
            state[key] = _flag(key, value, errors)
        elif key in ON_FLAGS:
            state[key] = _flag(key, value, errors, default=True)
        else:
            tone[key] = value
    bad = []
    for request, check in ((tone, validate_tone), (tight, validate_tight), (a_tone, validate_tone),
                           (a_tight, validate_tight)):
        for name, value in request.items():  # check each, so the message lists every problem
            try:
                check(model, {name: value})
            except (MusclesimError, TypeError, ValueError, KeyError) as exc:
                bad.append(_message(exc).rstrip(". "))
    if bad:
        errors += [f"{m}." for m in bad]
        errors.append("Showing the baseline tone" + (" and no tightness" if tight else "") + " instead.")
        if has_a:
            errors.append("Scenario A was left out.")
    else:
        state["tone"] = clean_tone(model, validate_tone(model, tone)) if tone else {}
        state["tight"] = clean_tight(validate_tight(model, tight)) if tight else {}
        if has_a:
            state["a"] = {"tone": clean_tone(model, validate_tone(model, a_tone)) if a_tone else {},
                          "tight": clean_tight(validate_tight(model, a_tight)) if a_tight else {},
                          "position": a_position or positions[0], "coupling": a_coupling}
    if state["ab"] and not state["a"]:
        state["ab"] = False
    if state["lesson"] and not state["present"]:
        state["present"] = True  # a lesson is a projector view
    return state, errors


def _message(exc: BaseException) -> str:
    msg = getattr(exc, "message", None) or str(exc)
    return msg[:1].upper() + msg[1:] if msg else type(exc).__name__


def _compact(model, tone: Mapping[str, float]) -> dict[str, float]:
    """Write a bilateral muscle whose two sides share a tone once, by its base name."""
    out: dict[str, float] = {}
    done = set()
    by_base: dict[str, list[str]] = {}
    for inst in model.instances:
        by_base.setdefault(inst.base, []).append(inst.id)
    for mid in model.muscle_ids:
        if mid not in tone or mid in done:
            continue
        inst = next(i for i in model.instances if i.id == mid)
        sides = by_base[inst.base]
        if len(sides) == 2 and all(s in tone for s in sides) and tone[sides[0]] == tone[sides[1]]:
            out[inst.base] = tone[mid]
            done.update(sides)
        else:
            out[mid] = tone[mid]
    return out


def format_query(state: Mapping, model, positions: Sequence[str]) -> str:
    """The URL query string (with its leading ``?``, or empty) for ``state``; defaults left out."""
    items: list[tuple[str, str]] = []
    for name, v in _compact(model, state.get("tone", {})).items():
        items.append((name, f"{v:g}"))
    for name, v in _compact(model, state.get("tight", {})).items():
        items.append((TIGHT_PREFIX + name, f"{v:g}"))
    if state.get("position") and state["position"] != positions[0]:
        items.append(("position", state["position"]))
    if state.get("measure") and state["measure"] != DEFAULT_MEASURE:
        items.append(("measure", state["measure"]))
    if state.get("preset"):
        items.append(("preset", state["preset"]))
    if state.get("view") and state["view"] != VIEWS[0]:
        items.append(("view", state["view"]))
    if state.get("lesson"):
        items.append(("lesson", state["lesson"]))
    for flag in FLAGS:
        if state.get(flag):
            items.append((flag, "1"))
    for flag in ON_FLAGS:
        if not state.get(flag, True):
            items.append((flag, "0"))
    a = state.get("a")
    if a:
        a_items = [(A_PREFIX + name, f"{v:g}") for name, v in _compact(model, a.get("tone", {})).items()]
        a_items += [(A_PREFIX + TIGHT_PREFIX + name, f"{v:g}") for name, v in _compact(model, a.get("tight", {})).items()]
        if a.get("position") and a["position"] != positions[0]:
            a_items.append((A_PREFIX + "position", a["position"]))
        for flag in ON_FLAGS:
            if not a.get(flag, True):
                a_items.append((A_PREFIX + flag, "0"))
        items += a_items or [("a", "1")]
    return "?" + urlencode(items) if items else ""


def tone_key(tone: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    """A hashable, order-free form of a tone dict (for caching solves)."""
    return tuple(sorted((k, float(v)) for k, v in tone.items() if not (isinstance(v, float) and math.isnan(v))))
