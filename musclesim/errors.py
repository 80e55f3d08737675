"""The exceptions musclesim raises.

Each class also inherits the matching builtin, so callers can catch either
(``except KeyError`` catches :class:`UnknownMuscleError`), as pint does.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Iterable


class MusclesimError(Exception):
    """Base class of every error musclesim raises on purpose."""


class ModelFileError(MusclesimError, ValueError):
    """A model file is malformed or inconsistent.

    Attributes: ``file`` (path), ``field`` (dotted path inside the file, e.g.
    ``muscles[3].origin.segment``), ``value`` (the bad value, or None) and ``allowed``
    (what would have been accepted).
    """

    def __init__(self, file: str | Path | None, field: str, problem: str,
                 value: object = None, allowed: str = "", line: int | None = None):
        self.file = str(file) if file is not None else "<model>"
        self.field = field
        self.value = value
        self.allowed = allowed
        self.line = line
        self.problem = problem
        where = self.file + (f":{line}" if line else "")
        msg = f"{where}: {field}: {problem}"
        if value is not None:
            msg += f" (got {value!r})"
        if allowed:
            msg += f"; allowed: {allowed}"
        super().__init__(msg)


class ModelNotFoundError(MusclesimError, FileNotFoundError):
    """No model of that name or path exists."""


class UnknownNameError(MusclesimError, KeyError):
    """A name (muscle, measure, position, ...) that does not exist; suggests close names."""

    kind = "name"

    def __init__(self, name: str, known: Iterable[str]):
        known = sorted(known)
        self.name = name
        self.suggestions = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
        msg = f"unknown {self.kind} {name!r}"
        if self.suggestions:
            msg += f"; did you mean {', '.join(repr(s) for s in self.suggestions)}?"
        else:
            shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
            msg += f"; known: {shown}"
        self.message = msg
        super().__init__(msg)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message


class UnknownMuscleError(UnknownNameError):
    """A tone or tightness names a muscle or group the model does not have."""

    kind = "muscle or group"


class UnknownMeasureError(UnknownNameError):
    """A measure name that does not exist."""

    kind = "measure"


class UnknownPositionError(UnknownNameError):
    """A position the model does not offer."""

    kind = "position"


class ToneRangeError(MusclesimError, ValueError):
    """A tone outside [0, 1] (or not a number)."""

    def __init__(self, name: str, value: object):
        self.name = name
        self.value = value
        super().__init__(f"tone for {name!r} must be a number in [0, 1] (resting activation); got {value!r}")


class SolverError(MusclesimError, RuntimeError):
    """The equilibrium could not be found (only raised where a result object cannot carry it)."""
