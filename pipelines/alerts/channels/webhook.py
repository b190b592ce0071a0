"""Generic webhook: every field of every alert as JSON, signed so a receiver can reject forgeries and replays."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import asdict

from pipelines.alerts.channels.messages import AlertMessage
from pipelines.alerts.channels.transport import Verdict
from warehouse.settings import AlertChannel

WEBHOOK_VERDICT = Verdict()
"""Any 2xx is a success: a receiver of our own format has no platform code to report in its body."""


def webhook_payload(channel: AlertChannel, messages: Sequence[AlertMessage], heading: str) -> dict:
    """Machine-readable: every field of every alert, in the caller's order."""
    if not messages:
        raise ValueError("nothing to deliver: no alert messages")
    return {"source": "lodestar", "heading": heading, "alerts": [asdict(m) for m in messages]}


def webhook_signature(secret: str, timestamp: int, body: bytes | str) -> str:
    """Signs timestamp and body together so a receiver can reject both forged and replayed deliveries."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + raw, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def webhook_headers(body: bytes, delivery_id: str, secret: str | None, timestamp: int) -> dict[str, str]:
    """The delivery id stays the same across retries, so a receiver can drop a repeat it already took."""
    headers = {"X-Lodestar-Delivery": delivery_id}
    if secret:
        headers["X-Lodestar-Timestamp"] = str(timestamp)
        headers["X-Lodestar-Signature"] = webhook_signature(secret, timestamp, body)
    return headers
