"""Read-only containers whose contents are built on first access.

A :class:`musclesim.Result` carries more than most callers read (per-joint moment tables,
moment arms, propagation frames). Building them costs more than the solve, so they are built
when first read and then kept; to the reader they are an ordinary read-only sequence or mapping.
Each is built once even when several threads of a server read a shared result together.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any


class _BuiltOnce:
    """Holds ``build`` until the first :meth:`_all`, then its result (converted by ``_convert``)."""

    _convert: Callable = tuple

    def __init__(self, build: Callable[[], Any]):
        self._build: Callable[[], Any] | None = build
        self._value: Any = self._convert()
        self._lock = threading.Lock()

    def _all(self):
        if self._build is not None:
            with self._lock:
                if self._build is not None:  # another thread may have built it meanwhile
                    self._value, self._build = self._convert(self._build()), None
        return self._value

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator:
        return iter(self._all())

    def __repr__(self) -> str:
        return repr(self._all())


class LazySequence(_BuiltOnce, Sequence):
    """A read-only sequence built by ``build()`` on first access."""

    _convert = tuple

    def __getitem__(self, i):
        return self._all()[i]

    def __eq__(self, other) -> bool:
        return self._all() == (tuple(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]


class LazyMapping(_BuiltOnce, Mapping):
    """A read-only mapping built by ``build()`` on first access."""

    _convert = dict

    def __getitem__(self, key) -> Any:
        return self._all()[key]
