"""Delivery channels: Redis Streams, signed webhooks (retries, dead letter) and the log.

Guarantees (see alerts/README.md): the Redis Streams channel is exactly-once — the dedup key is
checked and set in the same Lua script that XADDs. Webhooks and the log are at-least-once with an
idempotency key: the key is marked delivered only after a 2xx (or after the log line is written),
so a crash in between re-sends the same body with the same `X-Tradlyte-Idempotency-Key`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import requests

delivery_log = logging.getLogger("tradlyte.alerts.deliveries")

SIGNATURE_HEADER = "X-Tradlyte-Signature"
IDEMPOTENCY_HEADER = "X-Tradlyte-Idempotency-Key"
TIMESTAMP_HEADER = "X-Tradlyte-Timestamp"


def sign(secret: str, body: bytes) -> str:
    """`sha256=<hex HMAC-SHA256 of the exact body bytes>`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header or "")


def body_bytes(payload: dict) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str).encode()


def stream_fields(payload: dict) -> dict[str, str]:
    """Flat string fields for XADD (easy to filter in a consumer group) plus the whole JSON."""
    out = {k: ("" if v is None else str(v)) for k, v in payload.items() if not isinstance(v, list | dict)}
    out["json"] = json.dumps(payload, sort_keys=True, default=str)
    return out


@dataclass
class WebhookAttempt:
    attempt: int
    status: int | None
    error: str | None


@dataclass
class WebhookResult:
    ok: bool
    attempts: list[WebhookAttempt] = field(default_factory=list)
    retryable: bool = True

    @property
    def last_error(self) -> str:
        a = self.attempts[-1] if self.attempts else None
        return "" if a is None else (a.error or f"HTTP {a.status}")


def post_webhook(url: str, secret: str, payload: dict, idempotency_key: str, timeout: float = 5.0,
                 retries: int = 3, backoff: float = 0.5, session: requests.Session | None = None) -> WebhookResult:
    """POST the signed JSON body; retry 5xx / 408 / 429 / network errors with exponential backoff."""
    body = body_bytes(payload)
    headers = {
        "Content-Type": "application/json",
        IDEMPOTENCY_HEADER: idempotency_key,
        TIMESTAMP_HEADER: str(int(time.time())),
        SIGNATURE_HEADER: sign(secret, body),
        "User-Agent": "tradlyte-alerts/1",
    }
    http = session or requests
    result = WebhookResult(ok=False)
    for attempt in range(1, retries + 2):
        try:
            resp = http.post(url, data=body, headers=headers, timeout=timeout)
            status = resp.status_code
            if 200 <= status < 300:
                result.attempts.append(WebhookAttempt(attempt, status, None))
                result.ok = True
                return result
            result.attempts.append(WebhookAttempt(attempt, status, f"HTTP {status}"))
            if 400 <= status < 500 and status not in (408, 429):
                result.retryable = False
                return result
        except requests.RequestException as exc:
            result.attempts.append(WebhookAttempt(attempt, None, f"{type(exc).__name__}: {exc}"[:300]))
        if attempt <= retries:
            time.sleep(backoff * (2 ** (attempt - 1)))
    return result


def log_delivery(payload: dict[str, Any]) -> None:
    delivery_log.info("alert %s", json.dumps(payload, sort_keys=True, default=str))
