"""Tidy tables of batch answers (scenario files, sweeps), and writing them safely.

A :class:`Table` holds its data by column (numpy arrays and lists) and behaves like a list of
row dicts: ``len(t)``, ``t[0]``, ``for row in t``. It converts to a pandas DataFrame when pandas is
installed (``t.to_pandas()``, the optional ``analysis`` extra), to CSV and to JSON without it, and
shows as an HTML table in Jupyter.

Missing values (the measures of a scenario that found no posture) are NaN in the table, empty in
CSV and ``null`` in JSON.

Files are written atomically (:func:`write_atomic`): to a temporary file in the same folder, then
renamed over the target, so a reader never sees half a file and an interrupted run leaves the old
file (or none) in place.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

# defined in errors.py; imported here too (they used to live here)
from .errors import MissingExtraError, OutputPathError, UnknownColumnError

#: Rows shown by ``_repr_html_`` before "... more rows".
HTML_MAX_ROWS = 60


def require(module: str, extra: str, what: str):
    """Import an optional dependency or raise :class:`MissingExtraError` saying how to install it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(f"{what} needs the optional package {module.split('.')[0]!r}: "
                                f"pip install 'musclesim[{extra}]'") from None


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, then rename)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise OutputPathError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path


def _plain(v: Any) -> Any:
    """A JSON/CSV-friendly Python scalar: numpy scalars to Python, NaN to None."""
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        v = float(v)
        return None if math.isnan(v) else v
    return v


def _scalar(v: Any) -> Any:
    """A numpy scalar as the matching Python scalar (NaN stays a float NaN)."""
    return v.item() if isinstance(v, np.generic) else v


class Table(Sequence[dict]):
    """A tidy table: named columns of equal length, read as a list of row dicts.

    Parameters
    ----------
    columns : mapping of column name to a sequence (numpy array or list), all the same length
    title : str, optional
        Shown above the HTML table.
    """

    def __init__(self, columns: Mapping[str, Sequence], title: str = ""):
        cols = {str(k): (v if isinstance(v, np.ndarray) else list(v)) for k, v in columns.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) > 1:
            raise ValueError(f"columns differ in length: { {k: len(v) for k, v in cols.items()} }")
        self._cols = cols
        self._n = lengths.pop() if lengths else 0
        self.title = title

    # ------------------------------------------------------------- list of dicts
    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self._cols)

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, i):
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self._n))]
        if i < 0:
            i += self._n
        if not 0 <= i < self._n:
            raise IndexError(f"row {i} out of range (table has {self._n} rows)")
        return {k: _scalar(v[i]) for k, v in self._cols.items()}

    def __iter__(self) -> Iterator[dict]:
        for i in range(self._n):
            yield self[i]

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self._n} rows x {len(self._cols)} columns ({', '.join(self._cols)})>"

    def column(self, name: str) -> np.ndarray:
        """One column as a numpy array (a copy)."""
        if name not in self._cols:
            raise UnknownColumnError(name, self._cols)
        return np.array(self._cols[name])

    def where(self, **equal: Any) -> Table:
        """The rows whose columns equal the given values, e.g. ``t.where(measure="pelvic_tilt_deg")``."""
        mask = np.ones(self._n, bool)
        for k, v in equal.items():
            mask &= self.column(k) == v
        idx = np.flatnonzero(mask)
        return Table({k: (v[idx] if isinstance(v, np.ndarray) else [v[i] for i in idx])
                      for k, v in self._cols.items()}, self.title)

    def records(self) -> list[dict]:
        """Every row as a dict of plain Python values (NaN as None), e.g. for JSON."""
        cols = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self._cols.items()}
        return [{k: _plain(cols[k][i]) for k in cols} for i in range(self._n)]

    # ------------------------------------------------------------- conversions
    def to_pandas(self):
        """A pandas DataFrame (needs pandas: ``pip install 'musclesim[analysis]'``)."""
        pd = require("pandas", "analysis", "Table.to_pandas()")
        return pd.DataFrame({k: (v if isinstance(v, np.ndarray) else list(v)) for k, v in self._cols.items()})

    def to_csv(self, path: str | Path | None = None) -> str:
        """CSV text with a header row (NaN as an empty field); written atomically to ``path`` if given."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.columns)
        cols = [(v.tolist() if isinstance(v, np.ndarray) else v) for v in self._cols.values()]
        for i in range(self._n):
            w.writerow(["" if (x := _plain(c[i])) is None else (repr(x) if isinstance(x, float) else x) for c in cols])
        text = buf.getvalue()
        if path is not None:
            write_atomic(path, text)
        return text

    def to_json(self, path: str | Path | None = None, indent: int | None = 1) -> str:
        """JSON: a list of row objects (NaN as null); written atomically to ``path`` if given."""
        text = json.dumps(self.records(), indent=indent)
        if path is not None:
            write_atomic(path, text + "\n")
        return text

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(k)}</th>" for k in self.columns)
        body = []
        for i in range(min(self._n, HTML_MAX_ROWS)):
            row = self[i]
            cells = []
            for k in self.columns:
                v = row[k]
                if isinstance(v, float):
                    s = "–" if math.isnan(v) else f"{v:.4g}"
                    cells.append(f'<td style="text-align:right">{s}</td>')
                else:
                    cells.append(f"<td>{html.escape(str(v))}</td>")
            body.append("<tr>" + "".join(cells) + "</tr>")
        more = f"<p>… {self._n - HTML_MAX_ROWS} more rows ({self._n} in all)</p>" if self._n > HTML_MAX_ROWS else ""
        title = f"<p><b>{html.escape(self.title)}</b></p>" if self.title else ""
        return f"<div>{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}</div>"


def measure_rows_columns(batch, measures: Sequence[str], leading: Mapping[str, Sequence]) -> dict[str, Any]:
    """Columns of a tidy table from a :class:`~musclesim.batch.BatchResult`: one row per scenario
    and measure (scenario-major), ``leading`` columns (one value per scenario) repeated per measure.

    Columns: the leading ones, then ``measure``, ``unit``, ``baseline``, ``value``, ``change``,
    ``ok``, ``message``.
    """
    from .metrics import MEASURES

    n, m = len(batch), len(measures)
    cols: dict[str, Any] = {}
    for k, v in leading.items():
        v = np.asarray(v) if not isinstance(v, list) else v
        cols[k] = np.repeat(v, m) if isinstance(v, np.ndarray) else [x for x in v for _ in range(m)]
    values = np.stack([np.asarray(batch.metrics[k], float) for k in measures], axis=1) if m else np.empty((n, 0))
    base = np.array([batch.baseline_metrics[k] for k in measures], float)
    cols["measure"] = list(measures) * n
    cols["unit"] = [MEASURES[k].unit for k in measures] * n
    cols["baseline"] = np.tile(base, n)
    cols["value"] = values.reshape(-1)
    cols["change"] = (values - base[None]).reshape(-1)
    cols["ok"] = np.repeat(np.asarray(batch.ok, bool), m)
    cols["message"] = [msg for msg in batch.messages for _ in range(m)]
    return cols
