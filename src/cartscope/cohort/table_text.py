"""The text of a cohort table that :func:`cartscope.cohort.store.data_hash` digests.

The text is, byte for byte, ``frame.to_csv(index=False, lineterminator="\\n",
float_format="%.<digits>g")`` (:func:`pandas_table_text`): the hash recorded in results and in
stored snapshots was defined by it, so it must never change. :func:`table_text` writes the same
text column by column: each distinct value of a column is formatted once (floats by their bit
pattern, so ``-0.0`` stays apart from ``0.0``) and rows are joined by plain string joins, instead
of pandas formatting and quoting every cell in Python. A field that needs quoting is quoted by
the standard ``csv`` writer itself, as ``to_csv`` does. A table with a column type outside the
validated cohort's (str, float64, nullable Int64 / boolean, int64, bool), a non-string column
name, fewer than two columns or no rows is written by ``to_csv`` itself.
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pandas as pd

_NEEDS_QUOTE = ',"\r\n'
"""Characters after which the csv writer may quote a field (delimiter, quote, line ends)."""


def pandas_table_text(frame: pd.DataFrame, digits: int) -> str:
    """The defining text: ``to_csv`` with floats at ``digits`` significant digits."""
    return frame.to_csv(index=False, lineterminator="\n", float_format=f"%.{digits}g")


def _quoted(fields: list[str]) -> list[str]:
    """Each field as the csv writer of ``to_csv`` writes it inside a row (minimal quoting)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n", delimiter=",", quotechar='"', doublequote=True,
                        escapechar=None, quoting=csv.QUOTE_MINIMAL)
    out = []
    for text in fields:
        buf.seek(0)
        buf.truncate()
        writer.writerow([text, "x"])  # two fields: a lone empty field would be written '""'
        out.append(buf.getvalue()[:-3])
    return out


def _text_of_uniques(texts: list[str]) -> np.ndarray:
    """``texts`` quoted where the csv writer would quote them, as an object array."""
    out = np.array(texts + [""], dtype=object)  # the last slot is the missing value's text
    joined = "".join(texts)
    if any(ch in joined for ch in _NEEDS_QUOTE):  # else no field of the column is quoted
        at = [i for i, text in enumerate(texts) if any(ch in text for ch in _NEEDS_QUOTE)]
        out[at] = _quoted([texts[i] for i in at])
    return out


def _float_column(values: np.ndarray, digits: int) -> np.ndarray:
    """``"%.<digits>g" % v`` for each value, "" for NaN (pandas' float_format path)."""
    fmt = f"%.{digits}g"
    bits = np.ascontiguousarray(values, dtype=np.float64).view(np.int64)
    uniq, inverse = np.unique(bits, return_inverse=True)
    as_float = uniq.view(np.float64)
    texts = ["" if v != v else fmt % v for v in as_float.tolist()]
    return _text_of_uniques(texts)[inverse.reshape(-1)]


def _coded_column(series: pd.Series) -> np.ndarray | None:
    """The csv text of a str, integer or boolean column (``str`` of each value, "" when
    missing), or None for a type this writer does not cover."""
    dtype = series.dtype
    covered = isinstance(dtype, (pd.StringDtype, pd.Int64Dtype, pd.BooleanDtype)) or (
        isinstance(dtype, np.dtype) and dtype.kind in "ib")
    if not covered:
        return None
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = [str(v) for v in uniques.tolist()]
    return _text_of_uniques(texts)[codes]  # code -1 (missing) takes the last slot, ""


def table_text(frame: pd.DataFrame, digits: int) -> str:
    """Exactly :func:`pandas_table_text` of ``frame``, written column by column."""
    names = list(frame.columns)
    if (len(names) < 2 or len(frame) == 0 or not frame.columns.is_unique
            or not all(type(n) is str for n in names)):
        return pandas_table_text(frame, digits)
    columns = []
    for name in names:
        col = frame[name]
        if isinstance(col.dtype, np.dtype) and col.dtype == np.float64:
            columns.append(_float_column(col.to_numpy(), digits).tolist())
            continue
        text = _coded_column(col)
        if text is None:
            return pandas_table_text(frame, digits)
        columns.append(text.tolist())
    header = ",".join(_text_of_uniques(names)[:-1].tolist())
    rows = "\n".join(map(",".join, zip(*columns)))
    return f"{header}\n{rows}\n"
