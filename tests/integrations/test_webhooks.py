"""Webhooks against a real receiver on 127.0.0.1: signatures, retries, filtering, secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from aqe_ci.app.notify import compared_events, send_events
from aqe_ci.errors import WebhookDeliveryFailed
from aqe_ci.model.schema import schema
from aqe_ci.publish.webhooks import Notifier, Webhook, sign, stored_event, verify
from tests.servers.webhook_receiver import WebhookReceiver, start_receiver

REPORTS = Path(__file__).resolve().parents[2] / "examples" / "reports"
CANARY_SECRET = "canary-hook-secret-5f1d2c"
CANARY_TOKEN = "T0KENcanary9b8a7"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    r = start_receiver()
    yield r
    r.close()


def _hook(receiver: WebhookReceiver, **kw: object) -> Webhook:
    defaults: dict[str, object] = {"url": f"{receiver.url}/hook", "secret": CANARY_SECRET, "backoff_seconds": 0.01,
                                   "timeout_seconds": 2.0}
    defaults.update(kw)
    return Webhook(**defaults)  # type: ignore[arg-type]


def _validate_event(body: dict[str, object]) -> None:
    from jsonschema import Draft202012Validator, FormatChecker

    Draft202012Validator(schema("webhook_event"), format_checker=FormatChecker()).validate(body)


EVENT = stored_event(store="/tmp/store", run={"key": "build-1", "branch": "main", "commit": "abc1234"},
                     documents=[{"type": "coverage", "part": "default", "summary": {"line_rate": 80.0}}])


def test_delivery_is_signed_over_the_raw_body_and_matches_the_schema(receiver: WebhookReceiver) -> None:
    [d] = Notifier([_hook(receiver)]).send(EVENT)
    assert d.ok and d.status == 200 and d.attempts == 1
    [req] = receiver.requests
    assert req.headers["x-aqe-event"] == "stored"
    assert req.headers["x-aqe-delivery"] == d.delivery_id
    assert req.headers["content-type"] == "application/json"
    assert verify(CANARY_SECRET, req.body, req.headers["x-hub-signature-256"])
    assert not verify("another-secret", req.body, req.headers["x-hub-signature-256"])
    assert req.headers["x-hub-signature-256"] == sign(CANARY_SECRET, req.body)
    body = json.loads(req.body)
    assert body["delivery_id"] == d.delivery_id and body["run"]["key"] == "build-1"
    _validate_event(body)


def test_no_secret_means_no_signature_header(receiver: WebhookReceiver) -> None:
    Notifier([_hook(receiver, secret=None)]).send(EVENT)
    assert "x-hub-signature-256" not in receiver.requests[0].headers


def test_5xx_is_retried_with_the_same_delivery_id(receiver: WebhookReceiver) -> None:
    receiver.script = [500, 503]
    [d] = Notifier([_hook(receiver, retries=3)]).send(EVENT)
    assert d.ok and d.attempts == 3
    assert len(receiver.requests) == 3
    assert len({r.headers["x-aqe-delivery"] for r in receiver.requests}) == 1
    assert len({r.body for r in receiver.requests}) == 1


def test_retries_run_out_and_the_delivery_reports_the_status(receiver: WebhookReceiver) -> None:
    receiver.script = [500, 500, 500]
    [d] = Notifier([_hook(receiver, retries=2)]).send(EVENT)
    assert not d.ok and d.status == 500 and d.attempts == 3 and d.error == "HTTP 500"
    assert len(receiver.requests) == 3


def test_4xx_is_final(receiver: WebhookReceiver) -> None:
    receiver.script = [404]
    [d] = Notifier([_hook(receiver, retries=3)]).send(EVENT)
    assert not d.ok and d.status == 404 and len(receiver.requests) == 1


def test_a_timeout_is_retried(receiver: WebhookReceiver) -> None:
    receiver.script = [("sleep", 1.5, 200)]
    [d] = Notifier([_hook(receiver, retries=2, timeout_seconds=0.5)]).send(EVENT)
    assert d.ok and d.attempts == 2
    assert len(receiver.requests) == 2


def test_an_event_the_hook_does_not_subscribe_to_sends_nothing(receiver: WebhookReceiver) -> None:
    assert Notifier([_hook(receiver, events=("gate_failed",))]).send(EVENT) == []
    assert receiver.requests == []


def test_gate_failed_is_sent_next_to_compared_only_when_a_gate_failed(receiver: WebhookReceiver) -> None:
    comparison = {"head": {"key": "pr-1", "branch": "f"}, "baseline": {"key": "b-1", "method": "merge-base"},
                  "coverage": {"line_rate": {"before": 80.0, "after": 79.0, "change": -1.0}},
                  "tests": {"before": 10, "after": 10, "change": 0, "new_failures": [{"name": "x"}], "fixed": []},
                  "security": {"before": 0, "after": 1, "change": 1, "new": [{"severity": "high"}],
                               "new_by_severity": {"high": 1}, "fixed": []}}
    hook = _hook(receiver, events=("gate_failed",))
    passed = [{"gate": "coverage_drop>5", "status": "passed", "actual": 1.0, "message": "ok"}]
    send_events(Notifier([hook]), compared_events(store="s", comparison=comparison, gates=passed), lambda _: None)
    assert receiver.requests == []
    failed = [{"gate": "coverage_drop>0.5", "status": "failed", "actual": 1.0, "message": "dropped"}]
    send_events(Notifier([hook]), compared_events(store="s", comparison=comparison, gates=failed), lambda _: None)
    [req] = receiver.requests
    body = json.loads(req.body)
    _validate_event(body)
    assert body["event"] == "gate_failed" and body["gates"][0]["status"] == "failed"
    assert body["changes"]["tests"]["new_failures"] == 1
    assert body["changes"]["security"]["new_by_severity"]["high"] == 1
    assert body["baseline"] == {"key": "b-1", "commit": None, "branch": None, "method": "merge-base"}


def test_slack_format_posts_a_text_message_with_inert_names(receiver: WebhookReceiver) -> None:
    event = stored_event(store="s", run={"key": "k", "branch": "<!channel> main"},
                         documents=[{"type": "test_results", "part": "default", "summary": {}}])
    Notifier([_hook(receiver, format="slack")]).send(event)
    body = json.loads(receiver.requests[0].body)
    assert set(body) == {"text"}
    assert "&lt;!channel&gt; main" in body["text"] and "<!channel>" not in body["text"]


def test_a_required_hook_that_fails_raises_after_every_delivery(receiver: WebhookReceiver) -> None:
    receiver.script = [500, 500]
    lines: list[str] = []
    hooks = [_hook(receiver, retries=1, required=True), _hook(receiver, retries=0)]
    with pytest.raises(WebhookDeliveryFailed) as info:
        send_events(Notifier(hooks), [EVENT], lines.append)
    assert info.value.exit_code == 1
    assert len(receiver.requests) == 3  # both hooks were tried: 2 attempts, then 1
    assert any("not delivered (HTTP 500, 2 attempts" in line for line in lines)


def test_an_unreachable_hook_is_reported_without_its_url(tmp_path: Path) -> None:
    lines: list[str] = []
    hook = Webhook(url=f"http://127.0.0.1:9/{CANARY_TOKEN}", retries=1, backoff_seconds=0.01, timeout_seconds=1)
    [d] = send_events(Notifier([hook]), [EVENT], lines.append)
    assert not d.ok and d.status is None and d.error == "could not connect"
    assert CANARY_TOKEN not in "".join(lines) and "127.0.0.1" in lines[0]


def _config(tmp_path: Path, receiver: WebhookReceiver, **hook: object) -> Path:
    cfg = {"local": {"base_path": str(tmp_path / "store")},
           "notify": {"webhooks": [{"url": "${HOOK_URL}", "secret": "${HOOK_SECRET}", "backoff_seconds": 0.01,
                                    **hook}]}}
    path = tmp_path / "storage.json"
    path.write_text(json.dumps(cfg))
    return path


def test_cli_store_and_compare_post_events_and_never_show_the_secret(
        aqe, workdir: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", f"{receiver.url}/hooks/{CANARY_TOKEN}")
    monkeypatch.setenv("HOOK_SECRET", CANARY_SECRET)
    cfg = str(_config(workdir, receiver))
    outputs = []
    for key, side in (("base-1", "base"), ("pr-1", "pr")):
        r = aqe("--config", cfg, "artifacts", "store", "--key", key, "--branch", "main" if side == "base" else "f",
                "--file", str(REPORTS / side / "junit.xml"), "--file", str(REPORTS / side / "coverage.xml"))
        assert r.code == 0, r.err
        outputs.append(r.out + r.err)
    r = aqe("--config", cfg, "artifacts", "compare", "base-1", "pr-1", "--format", "json",
            "--fail-on", "new_failures>100")
    assert r.code == 0, r.err
    outputs.append(r.out + r.err)
    r = aqe("--config", cfg, "config", "show")
    outputs.append(r.out + r.err)
    assert [json.loads(q.body)["event"] for q in receiver.requests] == ["stored", "stored", "compared"]
    for q in receiver.requests:
        assert q.path == f"/hooks/{CANARY_TOKEN}"
        assert verify(CANARY_SECRET, q.body, q.headers["x-hub-signature-256"])
        _validate_event(json.loads(q.body))
        assert CANARY_SECRET not in q.body.decode()
    text = "\n".join(outputs)
    assert "webhook 127.0.0.1: stored delivered (200, 1 attempt" in text
    assert CANARY_SECRET not in text and CANARY_TOKEN not in text


def test_cli_failed_gate_sends_gate_failed_and_exit_stays_the_gates(
        aqe, workdir: Path, receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", f"{receiver.url}/h")
    monkeypatch.setenv("HOOK_SECRET", CANARY_SECRET)
    cfg = str(_config(workdir, receiver, events=["gate_failed"]))
    for key, side in (("base-1", "base"), ("pr-1", "pr")):
        assert aqe("--config", cfg, "artifacts", "store", "--key", key, "--file", str(REPORTS / side / "junit.xml"),
                   "--file", str(REPORTS / side / "coverage.xml")).code == 0
    assert receiver.requests == []  # not subscribed to stored
    r = aqe("--config", cfg, "artifacts", "compare", "base-1", "pr-1", "--fail-on", "coverage<101")
    assert r.code == 6
    [q] = receiver.requests
    assert json.loads(q.body)["event"] == "gate_failed"


def test_cli_unreachable_optional_hook_warns_and_succeeds(aqe, workdir: Path, receiver: WebhookReceiver,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", "http://127.0.0.1:9/x")
    monkeypatch.setenv("HOOK_SECRET", CANARY_SECRET)
    cfg = str(_config(workdir, receiver, retries=0, timeout_seconds=1))
    r = aqe("--config", cfg, "artifacts", "store", "--key", "k1", "--file", str(REPORTS / "base" / "junit.xml"))
    assert r.code == 0
    assert "Warning: webhook 127.0.0.1: stored not delivered (could not connect" in r.err


def test_cli_required_hook_failure_exits_1_after_storing(aqe, workdir: Path, receiver: WebhookReceiver,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", f"{receiver.url}/h")
    monkeypatch.setenv("HOOK_SECRET", CANARY_SECRET)
    receiver.script = [500, 500]
    cfg = str(_config(workdir, receiver, retries=1, required=True))
    r = aqe("--config", cfg, "artifacts", "store", "--key", "k1", "--file", str(REPORTS / "base" / "junit.xml"))
    assert r.code == 1 and "required webhook 127.0.0.1 did not accept the stored event" in r.err
    assert aqe("--config", cfg, "artifacts", "get", "k1", "--type", "test_results").code == 0  # the run is stored
