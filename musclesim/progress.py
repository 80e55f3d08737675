"""A progress bar for long batch runs, and running a batch in pieces so the bar can move.

The bar appears only for runs that last over a second and only when stderr is a terminal
(``progress=None``, what the command line uses), or whenever asked (``progress=True``). It is
tqdm's when tqdm is installed (the ``analysis`` extra), else one line on stderr rewritten in place.

Running a batch in pieces gives the same numbers as one call: :func:`musclesim.simulate_many`
solves every scenario independently (its coupling iteration and its continuation run per row),
and the pieces are its own chunks.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence

from .batch import CHUNK

#: Scenarios per piece when a progress bar is shown: simulate_many's own chunk size, so the pieces
#: are exactly its chunks and the numbers do not depend on whether a bar is shown (the batched
#: arithmetic can differ in the last bits between batches of different sizes).
PIECE = CHUNK
#: Seconds a run must last before the bar appears.
DELAY_S = 1.0


class _LineBar:
    """The fallback bar: ``label: 1200/10000 (12%)`` on stderr, shown after :data:`DELAY_S`."""

    def __init__(self, total: int, desc: str, stream, delay: float):
        self.total, self.desc, self.stream, self.delay = total, desc, stream, delay
        self.n, self.start, self.shown = 0, time.monotonic(), False

    def update(self, k: int) -> None:
        self.n += k
        if time.monotonic() - self.start >= self.delay:
            self.shown = True
            pct = 100 * self.n / max(self.total, 1)
            self.stream.write(f"\r{self.desc}: {self.n}/{self.total} scenarios ({pct:.0f}%)")
            self.stream.flush()

    def close(self) -> None:
        if self.shown:
            self.stream.write("\n")
            self.stream.flush()


class _NoBar:
    def update(self, k: int) -> None:
        pass

    def close(self) -> None:
        pass


def progress_bar(total: int, desc: str, enabled: bool | None, stream=None):
    """A bar with ``update(k)`` and ``close()``; ``enabled=None`` means "if stderr is a terminal"."""
    stream = stream or sys.stderr
    if enabled is None:
        enabled = bool(getattr(stream, "isatty", lambda: False)())
    if not enabled:
        return _NoBar()
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return _LineBar(total, desc, stream, DELAY_S)
    return tqdm(total=total, desc=desc, unit="scenario", file=stream, delay=DELAY_S, leave=False)


def simulate_in_pieces(model, tones: Sequence[Mapping[str, float] | None], position: str = "standing", *,
                       coupling: bool = True, executor=None, progress: bool | None = False,
                       desc: str = "musclesim"):
    """:func:`musclesim.simulate_many`, in pieces of :data:`PIECE` scenarios when a bar is shown.

    With an ``executor`` the batch goes out in one call (its chunks run concurrently), and the bar
    moves once at the end.
    """
    from .batch import BatchResult, simulate_many

    tones = list(tones)
    bar = progress_bar(len(tones), desc, progress)
    try:
        if isinstance(bar, _NoBar) or executor is not None or len(tones) <= PIECE:
            out = simulate_many(model, tones, position, coupling=coupling, executor=executor)
            bar.update(len(tones))
            return out
        parts = []
        for i in range(0, len(tones), PIECE):
            try:
                parts.append(simulate_many(model, tones[i:i + PIECE], position, coupling=coupling))
            except Exception as exc:  # renumber "scenario k" to the index in the whole batch
                _renumber(exc, i)
                raise
            bar.update(len(tones[i:i + PIECE]))
    finally:
        bar.close()
    return BatchResult.concat(parts)


def _renumber(exc: Exception, offset: int) -> None:
    import re

    def fix(text: str) -> str:
        return re.sub(r"^scenario (\d+)", lambda m: f"scenario {int(m.group(1)) + offset}", text)

    if exc.args and isinstance(exc.args[0], str):
        exc.args = (fix(exc.args[0]),) + exc.args[1:]
    if isinstance(getattr(exc, "message", None), str):
        exc.message = fix(exc.message)
