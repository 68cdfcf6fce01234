"""Typed settings, one object per concern, each variable read in this module only.

Every setting comes from the environment with one working local default. The objects are built
when asked for (`PostgresSettings()`), not cached at import, so a test or an orchestrator that
sets a variable before a call is seen by that call. Secrets are `SecretStr`: their `repr`, their
`str` and a settings object printed into a log show `**********`, never the value; code that
needs the value asks for it explicitly (`.get_secret_value()`).

    paths      TRADLYTE_DATA_DIR, TRADLYTE_DUCKDB_PATH, TRADLYTE_DUCKDB_EXTENSIONS,
               TRADLYTE_LAKE_DUCKDB_PATH, TRADLYTE_SPARK_DIR, TRADLYTE_SPARK_RAW
    postgres   TRADLYTE_PG_HOST / _PORT / _USER / _PASSWORD / _DATABASE / _CONNECT_TIMEOUT
    lake (S3)  TRADLYTE_S3_ENDPOINT, TRADLYTE_LAKE_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID,
               AWS_SECRET_ACCESS_KEY
    redis      TRADLYTE_REDIS_URL
    polygon    MASSIVE_API_KEY (or POLYGON_API_KEY), POLYGON_BASE_URL, POLYGON_WS_URL,
               POLYGON_FLATFILES_* (flat-file S3; AWS_* as the fallback credentials)
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.resources import default_data_dir

_COMMON = {"extra": "ignore", "case_sensitive": False, "env_ignore_empty": True}


class PathSettings(BaseSettings):
    """Where the warehouse files, dlt's pipeline state and DuckDB's extensions live."""

    model_config = SettingsConfigDict(env_prefix="TRADLYTE_", **_COMMON)

    data_dir: Path = Field(default_factory=default_data_dir)
    duckdb_path: Path | None = None
    duckdb_extensions: Path | None = None
    lake_duckdb_path: Path | None = None
    spark_dir: Path | None = None
    spark_raw: str | None = None

    def data(self) -> Path:
        """The data folder, absolute, created on first use."""
        path = self.data_dir.expanduser().resolve()
        path.mkdir(parents=True, exist_ok=True)
        return path

    def warehouse(self) -> Path:
        """The embedded DuckDB warehouse (default `<data>/warehouse.duckdb`)."""
        return _absolute(self.duckdb_path) or self.data() / "warehouse.duckdb"

    def extensions(self) -> Path:
        return _absolute(self.duckdb_extensions) or self.data() / "duckdb_extensions"

    def lake_warehouse(self) -> Path:
        """The lake target's DuckDB file: bronze/silver state and the gold whose copies live on S3."""
        return _absolute(self.lake_duckdb_path) or self.data() / "lake.duckdb"

    def spark(self) -> Path:
        """The spark target's warehouse of managed tables and its Derby metastore."""
        return _absolute(self.spark_dir) or self.data() / "spark"

    def spark_raw_root(self) -> str:
        """Where the spark target reads dlt's raw Parquet: <root>/<table>/*.parquet (path or s3a://)."""
        return self.spark_raw or str(self.data() / "lake" / "raw_polygon")

    def pipelines(self) -> Path:
        path = self.data() / "dlt_pipelines"
        path.mkdir(parents=True, exist_ok=True)
        return path


class PostgresSettings(BaseSettings):
    """The PostgreSQL warehouse / serving cache. Trust auth locally: no password by default."""

    model_config = SettingsConfigDict(env_prefix="TRADLYTE_PG_", **_COMMON)

    host: str = "127.0.0.1"
    port: int = 5432
    user: str = "postgres"
    password: SecretStr = SecretStr("")
    database: str = "tradlyte"
    connect_timeout: int = 5

    def describe(self, database: str | None = None) -> str:
        """Where, without the password: for messages and logs."""
        return f"postgres://{self.user}@{self.host}:{self.port}/{database or self.database}"

    def connect_kwargs(self, database: str | None = None) -> dict[str, object]:
        """psycopg2.connect() keyword arguments (the password included: never log them)."""
        kwargs: dict[str, object] = {"host": self.host, "port": self.port, "user": self.user,
                                     "dbname": database or self.database,
                                     "connect_timeout": self.connect_timeout}
        if self.password.get_secret_value():
            kwargs["password"] = self.password.get_secret_value()
        return kwargs

    def libpq_dsn(self, database: str | None = None) -> str:
        """A libpq key=value string with every value quoted (for DuckDB's ATTACH): never log it."""
        return " ".join(f"{key}={_libpq_quote(str(value))}"
                        for key, value in self.connect_kwargs(database).items())

    def sqlalchemy_url(self, database: str | None = None) -> str:
        """postgresql://user:password@host:port/db, each part percent-encoded (dlt): never log it."""
        from urllib.parse import quote

        # dlt's postgres destination insists on a password even with trust auth
        password = self.password.get_secret_value() or "unused"
        return (f"postgresql://{quote(self.user, safe='')}:{quote(password, safe='')}@{self.host}:"
                f"{self.port}/{quote(database or self.database, safe='')}")


class LakeSettings(BaseSettings):
    """The S3 Parquet lake (any S3-compatible store: AWS, SeaweedFS, MinIO)."""

    model_config = SettingsConfigDict(**_COMMON)

    endpoint: str | None = Field(default=None, validation_alias=AliasChoices(
        "TRADLYTE_S3_ENDPOINT", "AWS_ENDPOINT_URL_S3"))
    bucket: str = Field(default="tradlyte-lake", validation_alias="TRADLYTE_LAKE_BUCKET")
    region: str = Field(default="us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"))
    access_key_id: str | None = Field(default=None, validation_alias="AWS_ACCESS_KEY_ID")
    secret_access_key: SecretStr | None = Field(default=None, validation_alias="AWS_SECRET_ACCESS_KEY")

    @field_validator("endpoint")
    @classmethod
    def _with_scheme(cls, value: str | None) -> str | None:
        if value and "://" not in value:
            return f"https://{value}"
        return value.rstrip("/") if value else value

    @property
    def bucket_url(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def endpoint_host(self) -> str | None:
        """host:port of the endpoint, as DuckDB's httpfs wants it (None: AWS itself)."""
        return urlsplit(self.endpoint).netloc if self.endpoint else None

    @property
    def use_ssl(self) -> bool:
        return not (self.endpoint or "").startswith("http://")

    def secret(self) -> str | None:
        return self.secret_access_key.get_secret_value() if self.secret_access_key else None


class RedisSettings(BaseSettings):
    """The Redis server of the alerts state, the stream and the serving cache."""

    model_config = SettingsConfigDict(env_prefix="TRADLYTE_REDIS_", **_COMMON)

    url: SecretStr = SecretStr("redis://127.0.0.1:6379/0")  # a URL may carry a password
    connect_timeout: float = 3.0

    def describe(self) -> str:
        """The URL without its password."""
        parts = urlsplit(self.url.get_secret_value())
        host = parts.hostname or "127.0.0.1"
        return f"{parts.scheme}://{host}:{parts.port or 6379}{parts.path}"


class PolygonSettings(BaseSettings):
    """Polygon.io (Massive): REST, WebSocket and the flat-file S3 endpoint."""

    model_config = SettingsConfigDict(**_COMMON)

    api_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices(
        "MASSIVE_API_KEY", "POLYGON_API_KEY"))
    base_url: str = Field(default="https://api.massive.com", validation_alias="POLYGON_BASE_URL")
    ws_url: str = Field(default="wss://socket.massive.com/stocks", validation_alias="POLYGON_WS_URL")
    flatfiles_endpoint: str = Field(default="https://files.massive.com",
                                    validation_alias="POLYGON_FLATFILES_ENDPOINT")
    flatfiles_bucket: str = Field(default="flatfiles", validation_alias="POLYGON_FLATFILES_BUCKET")
    flatfiles_prefix: str = Field(default="us_stocks_sip", validation_alias="POLYGON_FLATFILES_PREFIX")
    flatfiles_access_key_id: str | None = Field(default=None, validation_alias=AliasChoices(
        "POLYGON_FLATFILES_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"))
    flatfiles_secret_access_key: SecretStr | None = Field(default=None, validation_alias=AliasChoices(
        "POLYGON_FLATFILES_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"))
    flatfiles_region: str = Field(default="us-east-1", validation_alias=AliasChoices(
        "AWS_REGION", "AWS_DEFAULT_REGION"))

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    def key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else None


def _absolute(path: Path | None) -> Path | None:
    return path.expanduser().resolve() if path else None


def _libpq_quote(value: str) -> str:
    """A libpq connection-string value: single-quoted, with \\ and ' escaped."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
