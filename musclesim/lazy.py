"""Read-only containers whose contents are built on first access.

A :class:`musclesim.Result` carries more than most callers read (per-joint moment tables,
moment arms, propagation frames). Building them costs more than the solve, so they are built
when first read and then kept; to the reader they are an ordinary read-only sequence or mapping.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any


class LazySequence(Sequence):
    """A read-only sequence built by ``build()`` on first access."""

    def __init__(self, build: Callable[[], Sequence]):
        self._build: Callable[[], Sequence] | None = build
        self._items: tuple = ()
        self._lock = threading.Lock()  # built once even when a server's threads read it together

    def _all(self) -> tuple:
        if self._build is not None:
            with self._lock:
                if self._build is not None:
                    self._items, self._build = tuple(self._build()), None
        return self._items

    def __getitem__(self, i):
        return self._all()[i]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator:
        return iter(self._all())

    def __eq__(self, other) -> bool:
        return tuple(self) == (tuple(other) if isinstance(other, Sequence) else other)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return repr(self._all())


class LazyMapping(Mapping):
    """A read-only mapping built by ``build()`` on first access."""

    def __init__(self, build: Callable[[], Mapping]):
        self._build: Callable[[], Mapping] | None = build
        self._data: Mapping = {}
        self._lock = threading.Lock()

    def _all(self) -> Mapping:
        if self._build is not None:
            with self._lock:
                if self._build is not None:
                    self._data, self._build = dict(self._build()), None
        return self._data

    def __getitem__(self, key) -> Any:
        return self._all()[key]

    def __len__(self) -> int:
        return len(self._all())

    def __iter__(self) -> Iterator:
        return iter(self._all())

    def __repr__(self) -> str:
        return repr(self._all())
