"""`tradlyte export-training`: gold.ml_features with gold.ml_labels as train/valid/test Parquet."""

from __future__ import annotations

import click

from orchestration.cli.options import DATE, GOLD_READ_TARGETS, check_range, target_option


@click.command("export-training", help="Write gold.ml_features joined with gold.ml_labels as train/valid/test "
                                        "Parquet files plus manifest.json to a folder or s3://bucket/prefix.")
@click.option("--from", "start", type=DATE, required=True, help="First session, YYYY-MM-DD.")
@click.option("--to", "end", type=DATE, required=True, help="Last session, YYYY-MM-DD.")
@click.option("--out", required=True, help="Output folder or s3://bucket/prefix.")
@target_option(GOLD_READ_TARGETS, help="Where gold.ml_features lives.")
@click.option("--valid-fraction", type=float, default=0.15, show_default=True, help="Share of sessions for valid.")
@click.option("--test-fraction", type=float, default=0.15, show_default=True, help="Share of sessions for test.")
@click.option("--embargo-sessions", type=int, default=21, show_default=True,
              help="Sessions dropped between splits (>= the longest label look-ahead).")
def export_training(start, end, out, target, valid_fraction, test_fraction, embargo_sessions) -> None:
    from orchestration.export_training import SplitPlan
    from orchestration.export_training import export_training as run_export

    check_range(start, end)
    manifest = run_export(start, end, out, target, SplitPlan(valid_fraction, test_fraction, embargo_sessions))
    for name, split in manifest["splits"].items():
        click.echo(f"{name}: {split['rows']:,} rows, {split['from']} .. {split['to']}")
    click.echo(f"{len(manifest['features'])} features, data version {manifest['data_version']} -> {out}")
