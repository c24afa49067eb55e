"""A pandas DataFrame as plain channel data and back (llm_sql sends its tables this way).

Plain form: {"columns": [name, ...], "dtypes": [dtype name, ...], "data": [column, ...]}. A
numeric or boolean column is a numpy array. A column of text cells is packed as
("text", all cells joined, int64 array of cell lengths, bool array of missing cells): one string
and two arrays cross the channel far faster than one string per cell, and a table's hand-over
counts toward the solver's time. Any other column is a list of its cells (None where missing).
Only the dtypes in `DTYPES` are rebuilt as such; anything else becomes an object column.

`from_plain` reads data from the other side of the channel, so it checks every shape and raises
ValueError on anything inconsistent. pandas and numpy are imported on first use.
"""

from __future__ import annotations

from itertools import accumulate
from typing import Any

NUMERIC = {
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "uint16",
    "uint32",
    "uint64",
    "float32",
    "float64",
    "bool",
}
DTYPES = NUMERIC | {"str", "object"}
TEXT = "text"


def to_plain(df: Any) -> dict[str, Any]:
    columns, dtypes, data = [], [], []
    for name, col in df.items():
        dtype = str(col.dtype)
        if dtype in NUMERIC:
            values: Any = col.to_numpy()
        else:
            dtype = dtype if dtype in DTYPES else "object"
            values = _pack([None if _missing(v) else v for v in col.tolist()])
        columns.append(name)
        dtypes.append(dtype)
        data.append(values)
    return {"columns": columns, "dtypes": dtypes, "data": data}


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v)  # NaN is the only value unequal to itself


def _pack(cells: list[Any]) -> Any:
    """Text cells as (TEXT, joined, lengths, missing); a column with other values stays a list."""
    import numpy as np

    if not all(c is None or type(c) is str for c in cells):
        return cells
    missing = np.fromiter((c is None for c in cells), dtype=bool, count=len(cells))
    texts = ["" if c is None else c for c in cells]
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    return (TEXT, "".join(texts), lengths, missing)


def _unpack(values: Any) -> list[Any]:
    import numpy as np

    if isinstance(values, list):
        return values
    if isinstance(values, np.ndarray):
        return values  # type: ignore[return-value] - numeric, handed to pandas as it is
    if not (isinstance(values, tuple) and len(values) == 4 and values[0] == TEXT):
        raise ValueError("a column is neither an array, a list nor packed text")
    _, joined, lengths, missing = values
    ok = isinstance(joined, str) and all(
        isinstance(a, np.ndarray) and a.ndim == 1 for a in (lengths, missing)
    )
    if not ok or lengths.dtype != np.int64 or missing.dtype != bool or len(lengths) != len(missing):
        raise ValueError("packed text column: malformed parts")
    if (lengths < 0).any() or int(lengths.sum()) != len(joined):
        raise ValueError("packed text column: cell lengths do not add up to the text")
    ends = list(accumulate(lengths.tolist()))
    cells: list[Any] = [joined[e - n : e] for e, n in zip(ends, lengths.tolist(), strict=True)]
    for i in np.flatnonzero(missing).tolist():
        cells[i] = None
    return cells


def from_plain(doc: Any) -> Any:
    """The DataFrame (a fresh RangeIndex, columns in the given order, duplicates kept)."""
    import pandas as pd

    if not isinstance(doc, dict) or not {"columns", "dtypes", "data"} <= doc.keys():
        raise ValueError("a table is a dict with columns, dtypes and data")
    columns, dtypes, data = doc["columns"], doc["dtypes"], doc["data"]
    if not all(isinstance(x, list) for x in (columns, dtypes, data)):
        raise ValueError("columns, dtypes and data must be lists")
    if not (len(columns) == len(dtypes) == len(data)):
        raise ValueError("columns, dtypes and data differ in length")
    series = []
    for dtype, values in zip(dtypes, data, strict=True):
        cells = _unpack(values)
        series.append(
            pd.Series(cells, dtype=dtype if isinstance(dtype, str) and dtype in DTYPES else "object")
        )
    if len({len(s) for s in series}) > 1:
        raise ValueError("columns differ in length")
    if not series:
        return pd.DataFrame()
    out = pd.concat(series, axis=1, ignore_index=True)
    out.columns = pd.Index(columns)
    return out
