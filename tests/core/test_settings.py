"""Typed settings: one default each, secrets kept out of repr, str and logs."""

from __future__ import annotations

import logging

from core.settings import LakeSettings, PathSettings, PolygonSettings, PostgresSettings, RedisSettings


def test_secrets_never_show(monkeypatch, caplog):
    monkeypatch.setenv("TRADLYTE_PG_PASSWORD", "canary-pg-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "canary-s3-secret")
    monkeypatch.setenv("MASSIVE_API_KEY", "canary-api-key")
    monkeypatch.setenv("TRADLYTE_REDIS_URL", "redis://:canary-redis@127.0.0.1:6379/0")
    objects = [PostgresSettings(), LakeSettings(), PolygonSettings(), RedisSettings()]
    with caplog.at_level(logging.INFO):
        for obj in objects:
            logging.getLogger("test").info("settings %s %r", obj, obj)
    text = caplog.text + " ".join(repr(o) + str(o) for o in objects) + PostgresSettings().describe()
    text += RedisSettings().describe()
    for canary in ("canary-pg-secret", "canary-s3-secret", "canary-api-key", "canary-redis"):
        assert canary not in text
    assert PolygonSettings().key() == "canary-api-key"
    assert PostgresSettings().connect_kwargs()["password"] == "canary-pg-secret"


def test_one_s3_endpoint_setting(monkeypatch):
    monkeypatch.setenv("TRADLYTE_S3_ENDPOINT", "http://127.0.0.1:8333/")
    lake = LakeSettings()
    assert (lake.endpoint, lake.endpoint_host, lake.use_ssl) == ("http://127.0.0.1:8333", "127.0.0.1:8333", False)
    monkeypatch.delenv("TRADLYTE_S3_ENDPOINT")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", "https://s3.example.com")
    assert LakeSettings().endpoint_host == "s3.example.com" and LakeSettings().use_ssl


def test_the_postgres_dsn_quotes_every_value(monkeypatch):
    monkeypatch.setenv("TRADLYTE_PG_PASSWORD", "it's a pass\\word")
    dsn = PostgresSettings().libpq_dsn()
    assert "password='it\\'s a pass\\\\word'" in dsn
    url = PostgresSettings().sqlalchemy_url()
    assert "it%27s%20a%20pass%5Cword" in url


def test_paths_follow_the_data_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("TRADLYTE_DATA_DIR", str(tmp_path / "d"))
    for name in ("TRADLYTE_DUCKDB_PATH", "TRADLYTE_DUCKDB_EXTENSIONS", "TRADLYTE_LAKE_DUCKDB_PATH"):
        monkeypatch.delenv(name, raising=False)
    paths = PathSettings()
    assert paths.warehouse() == tmp_path / "d" / "warehouse.duckdb"
    assert paths.lake_warehouse() == tmp_path / "d" / "lake.duckdb"
    assert paths.extensions() == tmp_path / "d" / "duckdb_extensions"
    monkeypatch.setenv("TRADLYTE_DUCKDB_PATH", "relative/w.duckdb")
    assert PathSettings().warehouse().is_absolute()
