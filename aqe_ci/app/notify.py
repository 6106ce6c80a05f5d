"""Sending the ``stored`` / ``compared`` / ``gate_failed`` webhook events (config ``notify``).

Called after a successful store and after every compare. A failed delivery is reported on stderr
(host, status, attempts; never the URL path or a secret) and fails the command only when its
webhook is ``"required": true`` (exit 1, after everything else was written).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from aqe_ci.errors import WebhookDeliveryFailed
from aqe_ci.publish.webhooks import Delivery, Notifier, compared_event, stored_event, webhooks_from_config

Say = Callable[[str], None]


def notifier_from_config(notify_section: Mapping[str, Any] | None) -> Notifier | None:
    hooks = webhooks_from_config(notify_section)
    return Notifier(hooks) if hooks else None


def send_events(notifier: Notifier | None, events: Iterable[Mapping[str, Any]], say: Say) -> list[Delivery]:
    """Deliver each event to its subscribers; report every delivery; raise if a required one failed."""
    if notifier is None:
        return []
    deliveries: list[Delivery] = []
    for event in events:
        deliveries.extend(notifier.send(event))
    for d in deliveries:
        if d.ok:
            say(f"webhook {d.host}: {d.event} delivered ({d.status}, {_attempts(d.attempts)}, id {d.delivery_id})")
        else:
            say(f"Warning: webhook {d.host}: {d.event} not delivered ({d.error}, {_attempts(d.attempts)}, "
                f"id {d.delivery_id})")
    failed = [d for d in deliveries if d.required and not d.ok]
    if failed:
        raise WebhookDeliveryFailed(
            f"required webhook {failed[0].host} did not accept the {failed[0].event} event ({failed[0].error})",
            hint="see docs/troubleshooting.md#a-webhook-is-not-delivered")
    return deliveries


def _attempts(n: int) -> str:
    return "1 attempt" if n == 1 else f"{n} attempts"


def stored_events(*, store: str, key: str, run: Mapping[str, Any],
                  documents: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [stored_event(store=store, run={"key": key, **run}, documents=documents)]


def compared_events(*, store: str, comparison: Mapping[str, Any],
                    gates: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``compared`` always; ``gate_failed`` as well when a gate failed."""
    events = [compared_event("compared", store=store, comparison=comparison, gates=gates)]
    if any(g.get("status") == "failed" for g in gates):
        events.append(compared_event("gate_failed", store=store, comparison=comparison, gates=gates))
    return events
