"""Point in time and incremental: a build with the data cut at date D gives the same feature
rows up to D as the full build (even though splits after D rescale the full build's prices),
and loading the rest then running incrementally gives exactly the full build's marts."""

from __future__ import annotations

from tests.ml.support import assert_same_rows, normalize

# rescaled prices (a later split) change ratios only by rounding
RTOL = 1e-9


def test_features_up_to_the_cut_equal_the_full_build(built, cut_warehouse):
    cut = cut_warehouse.cut
    full = normalize(built.query("select * from gold.ml_features"))
    at_cut = cut_warehouse.features_at_cut
    assert at_cut.session_date.max() == cut
    assert_same_rows(at_cut, full[full.session_date <= cut], rtol=RTOL, atol=1e-12)


def test_labels_up_to_the_cut_are_null_or_final(built, cut_warehouse):
    full = normalize(built.query("select * from gold.ml_labels"))
    at_cut = cut_warehouse.labels_at_cut
    merged = at_cut.merge(full, on=["ticker", "session_date"], suffixes=("", "_full"))
    assert len(merged) == len(at_cut)
    for column in [c for c in at_cut.columns if c.startswith("label_")]:
        known = merged[column].notna()
        assert (merged.loc[known, column] - merged.loc[known, column + "_full"]).abs().max() < 1e-9
    # labels needing sessions after the cut are NULL in the cut build
    assert merged.loc[merged.session_date == cut_warehouse.cut, "label_return_1"].isna().all()


def test_incremental_run_after_the_cut_equals_the_full_build(built, cut_warehouse):
    warehouse = cut_warehouse.warehouse
    for table, frame in cut_warehouse.rest.items():
        warehouse.load_raw(table, frame)
    warehouse.dbt("run")
    for mart in ("ml_features", "ml_labels"):
        incremental = normalize(warehouse.query(f"select * from gold.{mart}"))
        full = normalize(built.query(f"select * from gold.{mart}"))
        assert_same_rows(incremental, full, rtol=RTOL, atol=1e-12)
