"""Webhooks: after ``store`` and ``compare`` the CLI POSTs a signed JSON event to the configured URLs.

Conventions are GitHub's, which receivers already know how to verify:

* the body is signed with HMAC-SHA256 of the raw bytes under the webhook's ``secret``, sent as
  ``X-Hub-Signature-256: sha256=<hex>``;
* ``X-Aqe-Event`` names the event (``stored`` | ``compared`` | ``gate_failed``) and
  ``X-Aqe-Delivery`` carries a fresh UUID per delivery (the same across its retries, so a receiver
  can de-duplicate);
* 5xx answers, connection errors and timeouts are retried with exponential backoff through urllib3's
  ``Retry`` (``Retry-After`` honoured); 4xx answers are final.

A delivery never fails the CI step unless its webhook says ``"required": true``. The event schema
ships as ``webhook_event.schema.json`` (``aqe artifacts schema webhook_event``); ``format: slack``
sends a Slack/Teams-style incoming-webhook message (``{"text": …}``) instead. Secrets and URLs are
never logged: a delivery is described by the URL's host only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from aqe_ci import __version__
from aqe_ci.model.keys import SEVERITIES, format_time, utc_now

EVENTS = ("stored", "compared", "gate_failed")
FORMATS = ("json", "slack")
SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_SCHEMA_VERSION = 1
RETRY_STATUSES = (500, 502, 503, 504)


@dataclass(frozen=True, kw_only=True)
class Webhook:
    url: str = field(repr=False)
    events: tuple[str, ...] = EVENTS
    secret: str | None = field(default=None, repr=False)
    format: str = "json"
    timeout_seconds: float = 10.0
    retries: int = 3
    backoff_seconds: float = 0.5
    required: bool = False

    @property
    def host(self) -> str:
        """What messages show of the URL: its host only (paths and queries may hold tokens)."""
        return urlsplit(self.url).hostname or "webhook"

    @classmethod
    def from_config(cls, item: Mapping[str, Any]) -> Webhook:
        return cls(url=str(item["url"]), events=tuple(item.get("events") or EVENTS),
                   secret=item.get("secret") or None, format=str(item.get("format") or "json"),
                   timeout_seconds=float(item.get("timeout_seconds", 10.0)),
                   retries=int(item.get("retries", 3)), backoff_seconds=float(item.get("backoff_seconds", 0.5)),
                   required=bool(item.get("required", False)))


def webhooks_from_config(notify: Mapping[str, Any] | None) -> list[Webhook]:
    return [Webhook.from_config(item) for item in (notify or {}).get("webhooks") or []]


@dataclass(frozen=True, kw_only=True)
class Delivery:
    delivery_id: str
    event: str
    host: str
    ok: bool
    status: int | None  # the last HTTP status, None when no answer came
    attempts: int
    required: bool
    error: str | None = None  # one line, no URL path, no secret

    def as_json(self) -> dict[str, Any]:
        return {"delivery_id": self.delivery_id, "event": self.event, "host": self.host, "ok": self.ok,
                "status": self.status, "attempts": self.attempts, "required": self.required,
                "error": self.error}


def sign(secret: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, body): the value of ``X-Hub-Signature-256``."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, signature: str) -> bool:
    """A receiver's check, in constant time (used by our tests; documented in docs/webhooks.md)."""
    return hmac.compare_digest(sign(secret, body), signature)


# ---------------------------------------------------------------------------------------------
# event bodies


def stored_event(*, store: str, run: Mapping[str, Any], documents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``stored`` event: the run and one row per stored document (type, part, summary)."""
    return _envelope("stored", store=store, run=run,
                     documents=[{"type": d["type"], "part": d.get("part", "default"),
                                 "summary": dict(d.get("summary") or {})} for d in documents])


def compared_event(event: str, *, store: str, comparison: Mapping[str, Any],
                   gates: Sequence[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The ``compared`` / ``gate_failed`` event from the comparison JSON (``compare --format json``)."""
    head = comparison.get("head") or {}
    run = {k: head.get(k) for k in ("key", "commit", "branch", "pr", "created_at")}
    return _envelope(event, store=store, run=run, baseline=_baseline(comparison.get("baseline")),
                     changes=comparison_digest(comparison), gates=[dict(g) for g in gates])


def _envelope(event: str, **body: Any) -> dict[str, Any]:
    return {"schema_version": EVENT_SCHEMA_VERSION, "event": event, "created_at": format_time(utc_now()),
            "aqe_version": __version__, **body}


def _baseline(baseline: Any) -> dict[str, Any] | None:
    if not isinstance(baseline, Mapping) or not baseline.get("key"):
        return None
    return {k: baseline.get(k) for k in ("key", "commit", "branch", "method")}


def _delta(section: Any) -> dict[str, Any] | None:
    if not isinstance(section, Mapping):
        return None
    return {k: section.get(k) for k in ("before", "after", "change")}


def comparison_digest(comparison: Mapping[str, Any]) -> dict[str, Any]:
    """The figures a receiver acts on; the full comparison stays in the store and the job output."""
    out: dict[str, Any] = {}
    cov = comparison.get("coverage")
    if isinstance(cov, Mapping):
        out["coverage"] = {"line_rate": _delta(cov.get("line_rate") or cov),
                           "newly_uncovered_lines": cov.get("newly_uncovered_lines")}
    tests = comparison.get("tests")
    if isinstance(tests, Mapping):
        out["tests"] = {"tests_run": _delta(tests), "failed": _delta(tests.get("failed")),
                        "new_failures": _count(tests.get("new_failures")), "fixed": _count(tests.get("fixed"))}
    sec = comparison.get("security")
    if isinstance(sec, Mapping):
        new = sec.get("new_by_severity") or {}
        out["security"] = {"total": _delta(sec), "new": _count(sec.get("new")),
                           "new_by_severity": {s: int(new.get(s) or 0) for s in SEVERITIES},
                           "fixed": _count(sec.get("fixed"))}
    return out


def _count(value: Any) -> int:
    if isinstance(value, list):
        return len(value)
    return int(value) if isinstance(value, int) else 0


def slack_message(event: Mapping[str, Any]) -> dict[str, Any]:
    """A Slack/Teams-style incoming-webhook body: one ``text`` line plus the event for bots."""
    run = event.get("run") or {}
    where = f"{run.get('key')}" + (f" on {run['branch']}" if run.get("branch") else "")
    parts = [f"aqe-artifacts: {event['event'].replace('_', ' ')} — {where}"]
    changes = event.get("changes") or {}
    cov = (changes.get("coverage") or {}).get("line_rate") or {}
    if cov.get("after") is not None:
        change = cov.get("change")
        parts.append(f"coverage {cov['after']}%" + (f" ({change:+g} pp)" if isinstance(change, int | float) else ""))
    tests = changes.get("tests") or {}
    if tests:
        parts.append(f"{tests.get('new_failures', 0)} new failures, {tests.get('fixed', 0)} fixed")
    sec = changes.get("security") or {}
    if sec:
        parts.append(f"{sec.get('new', 0)} new security findings")
    failed = [g.get("gate") for g in event.get("gates") or [] if g.get("status") == "failed"]
    if failed:
        parts.append("gates failed: " + ", ".join(str(g) for g in failed))
    for doc in event.get("documents") or []:
        parts.append(f"{doc['type']}/{doc['part']}")
    return {"text": "; ".join(_mrkdwn_safe(p) for p in parts)}


def _mrkdwn_safe(text: str) -> str:
    """Slack mrkdwn control characters become entities, so names cannot ping or link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---------------------------------------------------------------------------------------------
# delivery

SessionFactory = Callable[[Webhook], Any]


def retrying_session(hook: Webhook) -> Any:
    """A requests session whose adapter retries 5xx, connection errors and timeouts (POST included)."""
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(total=hook.retries, connect=hook.retries, read=hook.retries, status=hook.retries,
                  other=0, backoff_factor=hook.backoff_seconds, status_forcelist=RETRY_STATUSES,
                  allowed_methods=frozenset({"POST"}), respect_retry_after_header=True, raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class Notifier:
    """Sends events to the webhooks that subscribe to them. Built by the composition root."""

    def __init__(self, hooks: Sequence[Webhook], *, session_factory: SessionFactory = retrying_session) -> None:
        self.hooks = list(hooks)
        self.session_factory = session_factory

    def subscribed(self, event: str) -> list[Webhook]:
        return [h for h in self.hooks if event in h.events]

    def send(self, event: Mapping[str, Any]) -> list[Delivery]:
        return [self._deliver(hook, event) for hook in self.subscribed(str(event["event"]))]

    def _deliver(self, hook: Webhook, event: Mapping[str, Any]) -> Delivery:
        delivery_id = str(uuid.uuid4())
        payload = slack_message(event) if hook.format == "slack" else {**event, "delivery_id": delivery_id}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json", "User-Agent": f"aqe-artifacts/{__version__}",
                   "X-Aqe-Event": str(event["event"]), "X-Aqe-Delivery": delivery_id}
        if hook.secret:
            headers[SIGNATURE_HEADER] = sign(hook.secret, body)
        result = {"delivery_id": delivery_id, "event": str(event["event"]), "host": hook.host,
                  "required": hook.required}
        session = self.session_factory(hook)
        try:
            resp = session.post(hook.url, data=body, headers=headers, timeout=hook.timeout_seconds,
                                allow_redirects=False)
        except Exception as exc:  # requests' ConnectionError/Timeout/RetryError, after the retries
            return Delivery(**result, ok=False, status=None, attempts=hook.retries + 1, error=_describe(exc))
        finally:
            session.close()
        retries = getattr(getattr(resp, "raw", None), "retries", None)
        attempts = len(getattr(retries, "history", ()) or ()) + 1
        ok = 200 <= resp.status_code < 300
        return Delivery(**result, ok=ok, status=resp.status_code, attempts=attempts,
                        error=None if ok else f"HTTP {resp.status_code}")


def _describe(exc: Exception) -> str:
    """A one-line reason without the URL (requests puts the whole URL, token included, in messages)."""
    name = type(exc).__name__
    text = str(exc)
    if "timed out" in text.lower() or "Timeout" in name:
        return "timed out"
    if "Max retries exceeded" in text or "ConnectionError" in name:
        return "could not connect"
    return name
