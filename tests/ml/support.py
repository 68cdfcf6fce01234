"""Reading gold.ml_* and their inputs from a warehouse, and comparing frames, for tests/ml."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.reference import ml_features as ref

FEATURE_KEY = ["ticker", "session_date"]


def normalize(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.drop(columns=[c for c in ("updated_at",) if c in frame.columns]).copy()
    for col in out.columns:
        if col in ("session_date", "first_session_date", "last_session_date", "list_date", "security_first_date"):
            out[col] = pd.to_datetime(out[col]).dt.date
        elif col.endswith("_at"):
            out[col] = pd.to_datetime(out[col], utc=True).dt.as_unit("us")
        elif col in ("ticker", "security_key", "timeframe"):
            out[col] = out[col].astype(str)
        elif col in ("session_index", "series_row"):
            out[col] = out[col].astype("int64")
        elif col in ("ind_is_warm", "is_warm", "is_complete"):
            out[col] = out[col].astype(bool)
        elif out[col].dtype == object:
            out[col] = pd.to_numeric(out[col], errors="coerce").astype(float)
    return out


def reference_inputs(warehouse) -> dict[str, pd.DataFrame]:
    bars = normalize(warehouse.query(
        "select * from gold.bars where timeframe in ('1d', '8d', '21d')"))
    daily = bars[bars.timeframe == "1d"].rename(columns={"first_session_date": "session_date"})
    return {
        "daily": daily,
        "fib_bars": bars[bars.timeframe != "1d"],
        "indicators": normalize(warehouse.query(
            "select * from gold.indicators where timeframe = '1d'")).drop(
                columns=["timeframe", "last_session_date", "close"]),
        "listings": normalize(warehouse.query("select ticker, security_key, list_date from bronze.bronze_tickers")),
        "calendar": normalize(warehouse.query("select session_date, session_index from silver.trading_calendar")),
    }


def reference_features(warehouse) -> pd.DataFrame:
    i = reference_inputs(warehouse)
    return ref.compute_features(i["daily"], i["listings"], i["fib_bars"], i["indicators"], i["calendar"])


def reference_labels(warehouse) -> pd.DataFrame:
    i = reference_inputs(warehouse)
    return ref.compute_labels(i["daily"], i["listings"], i["calendar"])


def assert_same_rows(actual: pd.DataFrame, expected: pd.DataFrame, key=FEATURE_KEY,
                     rtol: float = 1e-9, atol: float = 0.0) -> None:
    """Same keys and, column by column, equal values (doubles to rtol/atol; NULL == NULL)."""
    assert sorted(actual.columns) == sorted(expected.columns), (
        set(actual.columns) ^ set(expected.columns))
    a = actual.sort_values(key).reset_index(drop=True)
    e = expected.sort_values(key).reset_index(drop=True)[a.columns]
    assert len(a) == len(e), f"row counts differ: {len(a)} vs {len(e)}"
    assert (a[key].to_numpy() == e[key].to_numpy()).all(), "keys differ"
    problems = []
    for col in a.columns:
        x, y = a[col], e[col]
        if pd.api.types.is_float_dtype(x) or pd.api.types.is_float_dtype(y):
            x = pd.to_numeric(x, errors="coerce").to_numpy(float)
            y = pd.to_numeric(y, errors="coerce").to_numpy(float)
            ok = np.isclose(x, y, rtol=rtol, atol=atol) | (np.isnan(x) & np.isnan(y))
        else:
            ok = ((x == y) | (x.isna() & y.isna())).to_numpy()
        if not ok.all():
            bad = np.where(~ok)[0][:3]
            problems.append(f"{col}: {int((~ok).sum())} rows, e.g. "
                            + "; ".join(f"{tuple(a.loc[i, key])} {x[i]!r} vs {y[i]!r}" for i in bad))
    assert not problems, "\n".join(problems)
