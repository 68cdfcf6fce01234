"""gold.ml_features and gold.ml_labels against an independent pandas computation, the universe
rules (delisted and reused symbols), and leakage checks, on DuckDB and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.ml.support import assert_same_rows, normalize, reference_features, reference_labels
from tests.reference.ml_features import HORIZONS, feature_columns

# real prices with splits, a reused symbol, a delisting, an IPO, a late split
SAMPLE = ("AAPL", "GOOG", "FB", "SYN0001", "SYN0004", "SYN0006", "SYN0007")


@pytest.fixture(scope="module")
def marts(built):
    return {
        "features": normalize(built.query("select * from gold.ml_features")),
        "labels": normalize(built.query("select * from gold.ml_labels")),
    }


@pytest.fixture(scope="module")
def expected_features(built):
    return reference_features(built)


def test_every_feature_matches_pandas_on_sample_tickers(marts, expected_features):
    actual = marts["features"]
    assert list(actual.columns[5:]) == feature_columns(), "feature columns differ from the documented list"
    sample_actual = actual[actual.ticker.isin(SAMPLE)]
    sample_expected = expected_features[expected_features.ticker.isin(SAMPLE)]
    assert set(sample_actual.ticker) == set(SAMPLE)
    assert_same_rows(sample_actual, sample_expected, rtol=1e-9, atol=1e-12)


def test_features_are_populated(marts):
    features = marts["features"]
    warm = features[features.series_row >= 200]
    assert len(warm) > 5000
    for column in feature_columns():
        if column == "vwap0":
            continue
        assert warm[column].notna().mean() > 0.95, f"{column} mostly NULL on warm rows"


def test_window_features_are_null_until_the_window_is_full(marts):
    features = marts["features"]
    assert features.loc[features.series_row < 59, "ma_60"].isna().all()
    assert features.loc[features.series_row == 59, "ma_60"].notna().all()
    assert features.loc[features.series_row < 60, "roc_60"].isna().all()
    assert features.loc[features.series_row == 60, "roc_60"].notna().all()


def test_labels_match_pandas(built, marts):
    assert_same_rows(marts["labels"], reference_labels(built), rtol=1e-12)


def test_reused_symbol_is_a_new_security_and_delisted_history_stays(marts, universe):
    features = marts["features"]
    reused = features[features.ticker == "SYN0001"].groupby("security_key").agg(
        first=("session_date", "min"), last=("session_date", "max"), rows=("series_row", "max"))
    assert set(reused.index) == {"BBGSYN000001", "BBGSYNREUSE1"}
    old, new = reused.loc["BBGSYN000001"], reused.loc["BBGSYNREUSE1"]
    assert old["last"] < new["first"]
    # the new company's series starts from scratch: no 5-day window on its first 4 rows
    first_rows = features[(features.security_key == "BBGSYNREUSE1") & (features.series_row < 4)]
    assert len(first_rows) == 4 and first_rows["ma_5"].isna().all() and first_rows["ind_sma_5"].isna().all()
    delisted = universe.tickers.set_index("security_key").loc["BBGSYN000006", "delisted_utc"]
    syn6 = features[features.ticker == "SYN0006"]
    traded = universe.daily[universe.daily.ticker == "SYN0006"]
    assert len(syn6) == len(traded) > 0
    assert syn6.session_date.max() <= delisted.date()


def test_no_feature_correlates_perfectly_with_a_label(marts):
    data = marts["features"].merge(marts["labels"], on=["ticker", "session_date"])
    labels = [c for c in marts["labels"].columns if c.startswith("label_")]
    worst = []
    for feature in feature_columns():
        x = data[feature].astype(float)
        for label in labels:
            both = x.notna() & data[label].notna()
            if both.sum() < 100 or x[both].std() == 0:
                continue
            worst.append((abs(np.corrcoef(x[both], data.loc[both, label])[0, 1]), feature, label))
    worst.sort(reverse=True)
    assert worst and worst[0][0] < 0.9, f"feature/label too correlated: {worst[:3]}"


def test_labels_of_the_last_sessions_are_null(marts):
    labels = marts["labels"].sort_values(["ticker", "security_key", "session_date"])
    from_end = labels.groupby(["ticker", "security_key"]).cumcount(ascending=False)
    for h in HORIZONS:
        for kind in ("return", "qlib"):
            column = f"label_{kind}_{h}"
            assert labels.loc[from_end <= h, column].isna().all(), f"{column} known too early"
            assert labels.loc[from_end > h, column].notna().all(), f"{column} missing"


def test_labels_trade_at_the_next_open(built, marts):
    bars = normalize(built.query(
        "select ticker, first_session_date as session_date, open, close from gold.bars "
        "where timeframe = '1d' and ticker = 'AAPL' order by first_session_date"))
    row = marts["labels"][marts["labels"].ticker == "AAPL"].sort_values("session_date").iloc[100]
    i = bars.index[bars.session_date == row.session_date][0]
    assert row.label_return_5 == pytest.approx(bars.open[i + 6] / bars.open[i + 1] - 1, rel=1e-12)
    assert row.label_qlib_1 == pytest.approx(bars.close[i + 2] / bars.close[i + 1] - 1, rel=1e-12)
    assert pd.notna(row.label_return_20)
