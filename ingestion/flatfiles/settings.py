"""Settings of the flat-file backfill: where Polygon's (Massive's) bulk files live."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

DEFAULT_ENDPOINT = "https://files.massive.com"
DEFAULT_BUCKET = "flatfiles"
DEFAULT_PREFIX = "us_stocks_sip"
KIND_FOLDERS = {"day": "day_aggs_v1", "minute": "minute_aggs_v1"}
KIND_TABLES = {"day": "daily_aggs", "minute": "minute_aggs"}


def _env(*names: str, default: str | None = None) -> str | None:
    for name in names:
        if os.environ.get(name):
            return os.environ[name]
    return default


@dataclass
class FlatFilesConfig:
    """Flat files use their own S3 credentials; the AWS_* variables are the fallback."""

    endpoint_url: str = field(default_factory=lambda: _env("POLYGON_FLATFILES_ENDPOINT",
                                                           default=DEFAULT_ENDPOINT))
    bucket: str = field(default_factory=lambda: _env("POLYGON_FLATFILES_BUCKET", default=DEFAULT_BUCKET))
    prefix: str = field(default_factory=lambda: _env("POLYGON_FLATFILES_PREFIX", default=DEFAULT_PREFIX))
    access_key_id: str | None = field(default_factory=lambda: _env(
        "POLYGON_FLATFILES_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"))
    secret_access_key: str | None = field(default_factory=lambda: _env(
        "POLYGON_FLATFILES_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"))
    region: str = field(default_factory=lambda: _env("AWS_REGION", default="us-east-1"))

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key, region_name=self.region,
                            config=Config(retries={"max_attempts": 8, "mode": "adaptive"}))
