"""`tradlyte export-training`: features joined with labels, split by date with embargo gaps,
as Parquet plus a manifest, to a local folder and to S3, from DuckDB and PostgreSQL."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd
import pytest
from click.testing import CliRunner

from orchestration.cli import main
from tests.ml.support import normalize
from tests.reference.ml_features import feature_columns

START, END = "2011-09-01", "2013-03-01"


def _run(built, monkeypatch, out: str, *extra: str, env: dict | None = None):
    for key, value in {**built.env(), **(env or {})}.items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["export-training", "--from", START, "--to", END, "--out", out,
                                       "--target", built.target, *extra])
    return result


def _check(built, manifest: dict, parts: dict[str, pd.DataFrame], embargo: int) -> None:
    assert manifest["features"] == feature_columns()
    assert manifest["labels"] == ["label_return_1", "label_qlib_1", "label_return_5", "label_qlib_5",
                                  "label_return_20", "label_qlib_20"]
    expected_rows = int(built.query(
        f"select count(*) as n from gold.ml_features where session_date between date '{START}' and date '{END}'"
    )["n"].iloc[0])
    sessions = sorted(normalize(built.query(
        f"select distinct session_date from gold.ml_features "
        f"where session_date between date '{START}' and date '{END}'")).session_date)
    total = 0
    for name in ("train", "valid", "test"):
        frame, meta = parts[name], manifest["splits"][name]
        assert len(frame) == meta["rows"] > 0
        dates = pd.to_datetime(frame["session_date"]).dt.date
        assert dates.min().isoformat() == meta["from"] and dates.max().isoformat() == meta["to"]
        assert list(frame.columns[5:5 + len(manifest["features"])]) == manifest["features"]
        total += len(frame)
    # the embargo: `embargo` sessions between the end of one split and the start of the next
    for left, right in (("train", "valid"), ("valid", "test")):
        a = sessions.index(date.fromisoformat(manifest["splits"][left]["to"]))
        b = sessions.index(date.fromisoformat(manifest["splits"][right]["from"]))
        assert b - a - 1 == embargo
    # the rows left out are exactly those of the embargo sessions
    dropped = expected_rows - total
    gap_rows = int(built.query(
        "select count(*) as n from gold.ml_features where session_date > date '{}' and session_date < date '{}' "
        "or session_date > date '{}' and session_date < date '{}'".format(
            manifest["splits"]["train"]["to"], manifest["splits"]["valid"]["from"],
            manifest["splits"]["valid"]["to"], manifest["splits"]["test"]["from"]))["n"].iloc[0])
    assert dropped == gap_rows
    # labels joined: a training row carries the mart's label
    labels = normalize(built.query("select ticker, session_date, label_return_5 from gold.ml_labels"))
    train = parts["train"].assign(session_date=pd.to_datetime(parts["train"]["session_date"]).dt.date)
    joined = train[["ticker", "session_date", "label_return_5"]].merge(
        labels, on=["ticker", "session_date"], suffixes=("", "_mart"))
    assert len(joined) == len(train)
    assert ((joined.label_return_5 - joined.label_return_5_mart).abs().fillna(0) < 1e-15).all()
    assert len(manifest["data_version"]) == 16
    assert manifest["tables"]["ml_features"]["rows"] > 0


def test_export_to_a_local_folder(built, monkeypatch, tmp_path):
    out = tmp_path / "training"
    result = _run(built, monkeypatch, str(out), "--embargo-sessions", "25")
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    parts = {name: pd.read_parquet(out / f"{name}.parquet") for name in ("train", "valid", "test")}
    _check(built, manifest, parts, embargo=25)
    assert manifest["embargo_sessions"] == 25


def test_export_to_s3(built, monkeypatch, s3_server, s3_bucket):
    result = _run(built, monkeypatch, f"s3://{s3_bucket}/sets/v1", env=s3_server.env())
    assert result.exit_code == 0, result.output
    client = s3_server.boto3_client()

    def read(key: str) -> bytes:
        return client.get_object(Bucket=s3_bucket, Key=f"sets/v1/{key}")["Body"].read()

    manifest = json.loads(read("manifest.json"))
    parts = {name: pd.read_parquet(io.BytesIO(read(f"{name}.parquet"))) for name in ("train", "valid", "test")}
    _check(built, manifest, parts, embargo=21)


def test_same_data_same_version(built, monkeypatch, tmp_path):
    first = _run(built, monkeypatch, str(tmp_path / "a"))
    second = _run(built, monkeypatch, str(tmp_path / "b"))
    assert first.exit_code == second.exit_code == 0
    versions = [json.loads((tmp_path / p / "manifest.json").read_text())["data_version"] for p in ("a", "b")]
    assert versions[0] == versions[1]


@pytest.mark.parametrize("args, message", [
    (["--from", "2013-01-01", "--to", "2012-01-01"], "--to 2012-01-01 is before --from 2013-01-01"),
    (["--from", "2013-02-20", "--to", "2013-03-01"], "too few"),
    (["--from", "yesterday", "--to", "2013-03-01"], "YYYY-MM-DD"),
])
def test_user_errors_are_one_line(built, monkeypatch, tmp_path, args, message):
    for key, value in built.env().items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(main, ["export-training", *args, "--out", str(tmp_path), "--target", built.target])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
