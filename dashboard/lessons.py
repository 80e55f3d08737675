"""The projector lessons (docs/teaching.md): which controls each shows, where it starts.

A lesson is plain, frozen data: a preset to start from (or none), the few tone controls the class
sees (names the API accepts: a muscle id, a bilateral name or a group), the measure the *Why?*
panel explains, the question to ask before the reveal, and whether the front view belongs to it.
Projector mode shows only the chosen lesson's controls, large.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    id: str
    title: str
    controls: tuple[str, ...]
    measure: str
    question: str
    preset: str | None = None
    front: bool = False


LESSONS: tuple[Lesson, ...] = (
    Lesson("desk_sitter", "Desk sitter: do tight hip flexors tip the pelvis?", ("psoas_major", "iliacus"),
           "pelvic_tilt_deg", "Hip flexor tone goes up. Pelvic tilt: up, down, or the same?", preset="desk_sitter"),
    Lesson("crunches", "Crunches: do strong abdominals pull the head forward?", ("abdominals",), "head_forward_mm",
           "Abdominal tone goes up. Head forward: more, less, or the same?", preset="crunch_overtraining"),
    Lesson("one_side", "One tight side: which leg looks longer?", ("psoas_major_left", "psoas_major_right"),
           "pelvic_obliquity_deg", "Only the left psoas tightens. Which iliac crest goes up?",
           preset="one_sided_psoas", front=True),
    Lesson("explore", "Explore: the big muscle groups",
           ("hip_flexors", "abdominals", "glutes", "hamstrings", "back_extensors"), "pelvic_tilt_deg",
           "Pick a group and predict: which way will the pelvis tilt?"),
)
#: The lesson projector mode opens with when none is chosen.
DEFAULT_LESSON = "explore"


def lesson_by_id(lesson_id: str | None) -> Lesson | None:
    return next((le for le in LESSONS if le.id == lesson_id), None)


def all_controls() -> tuple[str, ...]:
    """Every lesson control, once, in lesson order (the layout has one big slider for each)."""
    out: list[str] = []
    for le in LESSONS:
        out += [c for c in le.controls if c not in out]
    return tuple(out)


def control_label(name: str) -> str:
    """``psoas_major_left`` -> ``psoas major, left side``; ``hip_flexors`` -> ``hip flexors``."""
    for side in ("left", "right"):
        if name.endswith("_" + side):
            return name[: -len(side) - 1].replace("_", " ") + f", {side} side"
    return name.replace("_", " ")
