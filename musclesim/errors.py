"""The exceptions musclesim raises.

Each class also inherits the matching builtin, so callers can catch either
(``except KeyError`` catches :class:`UnknownMuscleError`), as pint does::

    MusclesimError(Exception)
    +-- InputFileError(ValueError)          a file is malformed: names the file, field, line
    |   +-- ModelFileError                      a model.toml
    |   +-- ScenarioFileError                   a scenario file
    +-- ModelNotFoundError(FileNotFoundError)  no model of that name or path
    +-- UnknownNameError(KeyError)          a name that does not exist; suggests close ones
    |   +-- UnknownMuscleError                  in tone=
    |   +-- UnknownMeasureError                 in explain(measures=...)
    |   +-- UnknownPositionError                in position=
    |   +-- UnknownColumnError                  a column of a table
    +-- ToneRangeError(ValueError)          a tone that is not a finite number in [0, 1]
    +-- ToneTypeError(TypeError)            tone= or tightness= that is not a mapping
    +-- TightnessRangeError(ValueError)     a tightness that is not a number of degrees in range
    +-- NotStandingError(ValueError)        a failed result where a standing posture is needed
    +-- SolverError(RuntimeError)           no equilibrium, where no result can carry the news
    +-- MissingExtraError(ImportError)      an optional dependency is missing; names the pip extra
    +-- OutputPathError(FileNotFoundError)  an output file's folder does not exist
    +-- UsageError(ValueError)              bad command-line syntax (exit status 2)
    +-- ServerConfigError(ValueError)       a bad dashboard server option (exit status 2)

Every class here is raised somewhere in the package (``tests/test_errors.py`` checks it; the
bases ``MusclesimError``, ``InputFileError`` and ``UnknownNameError`` through their subclasses).

A solve that does not converge is not an exception: :func:`musclesim.simulate` returns a
result with ``ok`` False, NaN measures, a ``status`` (:class:`musclesim.status.Status`) and a
``message``. docs/errors.md lists each bad input
and the exact message it produces.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path


class MusclesimError(Exception):
    """Base class of every error musclesim raises on purpose.

    Errors pickle with their message and attributes intact, so they cross process pools.
    """

    def __reduce__(self):
        return (_restore, (type(self), self.args, dict(self.__dict__)))


def _restore(cls: type, args: tuple, state: dict) -> MusclesimError:
    err = cls.__new__(cls)
    Exception.__init__(err, *args)
    err.__dict__.update(state)
    return err


class InputFileError(MusclesimError, ValueError):
    """A file musclesim reads (a model or a scenario) is malformed or inconsistent.

    Attributes: ``file`` (path), ``field`` (dotted path inside the file, e.g.
    ``muscles[3].origin.segment``), ``value`` (the bad value, or None), ``allowed`` (what would
    have been accepted), ``line`` (1-based line in the file, or None) and ``problem``. The
    message reads ``FILE[:LINE]: FIELD: PROBLEM (got VALUE); allowed: ALLOWED``.
    """

    default_file = "<file>"

    def __init__(self, file: str | Path | None, field: str, problem: str,
                 value: object = None, allowed: str = "", line: int | None = None):
        self.file = str(file) if file is not None else self.default_file
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


class ModelFileError(InputFileError):
    """A model file is malformed or inconsistent (see :class:`InputFileError` for the attributes)."""

    default_file = "<model>"


class ScenarioFileError(InputFileError):
    """A scenario file (TOML) is malformed or names something that does not exist.

    Attributes as for :class:`InputFileError`; ``field`` is the dotted path inside the scenario
    file, e.g. ``tone.psoas_majr``.
    """

    default_file = "<scenario>"


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


class ToneTypeError(MusclesimError, TypeError):
    """``tone=`` or ``tightness=`` is not a mapping of names to numbers (e.g. a list or a string)."""


class NotStandingError(MusclesimError, ValueError):
    """An operation needs a converged, stable posture and was given a failed result
    (for example :func:`musclesim.explain` of a tone at which the body cannot stand)."""


class TightnessRangeError(MusclesimError, ValueError):
    """A tightness (contracture, degrees of range of motion lost) that is not a number in range."""

    def __init__(self, name: str, value: object, limit: float):
        self.name = name
        self.value = value
        super().__init__(f"tightness for {name!r} must be a number of degrees of motion lost in [0, {limit:g}]; "
                         f"got {value!r}")


class SolverError(MusclesimError, RuntimeError):
    """The equilibrium could not be found (only raised where a result object cannot carry it,
    e.g. a Sobol design none of whose scenarios stands)."""


class UnknownColumnError(UnknownNameError):
    """A table column that does not exist."""

    kind = "column"


class MissingExtraError(MusclesimError, ImportError):
    """An optional dependency is not installed (the message names the pip extra that brings it)."""


class OutputPathError(MusclesimError, FileNotFoundError):
    """An output file cannot be written where it was asked for (its folder does not exist)."""


class UsageError(MusclesimError, ValueError):
    """Bad command-line syntax."""


class ServerConfigError(MusclesimError, ValueError):
    """A bad server option (``frame_ancestors``); the CLI reports it in one line (exit 2)."""
