"""Settings of the flat-file backfill: where Polygon's (Massive's) bulk files live.

The defaults are `core.settings.PolygonSettings`' flat-file fields (POLYGON_FLATFILES_*, with
the AWS_* variables as the fallback credentials); tests and benchmarks pass their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from core.settings import PolygonSettings

KIND_FOLDERS = {"day": "day_aggs_v1", "minute": "minute_aggs_v1"}
KIND_TABLES = {"day": "daily_aggs", "minute": "minute_aggs"}


def _secret() -> str | None:
    secret = PolygonSettings().flatfiles_secret_access_key
    return secret.get_secret_value() if secret else None


@dataclass
class FlatFilesConfig:
    """Flat files use their own S3 credentials; the AWS_* variables are the fallback."""

    endpoint_url: str = field(default_factory=lambda: PolygonSettings().flatfiles_endpoint)
    bucket: str = field(default_factory=lambda: PolygonSettings().flatfiles_bucket)
    prefix: str = field(default_factory=lambda: PolygonSettings().flatfiles_prefix)
    access_key_id: str | None = field(default_factory=lambda: PolygonSettings().flatfiles_access_key_id)
    secret_access_key: str | None = field(default_factory=_secret, repr=False)
    region: str = field(default_factory=lambda: PolygonSettings().flatfiles_region)

    def client(self):
        import boto3
        from botocore.config import Config

        return boto3.client("s3", endpoint_url=self.endpoint_url, aws_access_key_id=self.access_key_id,
                            aws_secret_access_key=self.secret_access_key, region_name=self.region,
                            config=Config(retries={"max_attempts": 8, "mode": "adaptive"},
                                          connect_timeout=10, read_timeout=60))
