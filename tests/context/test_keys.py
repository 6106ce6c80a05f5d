"""The default run key: valid for storage, distinct per job attempt, sane for odd job names."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from aqe_ci.context import CiContext, Git, default_key, detect
from aqe_ci.model.keys import check_key

from .test_detect import CASES, run_case

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SHA = "1f0c4f2b5a7e9d3c8b6a4f2e0d9c8b7a6f5e4d3c"


@pytest.mark.parametrize(("ctx", "key"), [
    (CiContext(platform="github", run_id="9876543210", run_attempt="2", job="test"), "gh-9876543210-2-test"),
    (CiContext(platform="github", run_id="9876543210", job="test"), "gh-9876543210-1-test"),
    (CiContext(platform="gitlab", run_id="1234567", job="unit tests: [3.12]", job_id="998877"), "gl-998877"),
    (CiContext(platform="gitlab", run_id="1234567", job="unit tests: [3.12]"), "gl-1234567-unit-tests-3.12"),
    (CiContext(platform="buildkite", run_id="301", job_id="0189d2a4-8d2f"), "buildkite-0189d2a4-8d2f"),
    (CiContext(platform="azure", run_id="1500", run_attempt="3", job="Test py311"), "azure-1500-3-Test-py311"),
    (CiContext(platform="bitbucket", run_id="88", job_id="c0ffee00-1234"), "bitbucket-88-c0ffee00-1234"),
    (CiContext(platform="circleci", run_id="4711", job="test"), "circleci-4711"),
    (CiContext(platform="jenkins", run_id="57", job="widgets/PR-8"), "jenkins-widgets-PR-8-57"),
    (CiContext(platform="git", commit=SHA, branch="main"), "local-1f0c4f2b5a7e-20260102030405"),
    (CiContext(platform="github", commit=SHA), "local-1f0c4f2b5a7e-20260102030405"),  # no run id: local form
])
def test_default_key_per_platform(ctx: CiContext, key: str) -> None:
    assert default_key(ctx, NOW) == key


def test_nothing_known_gives_timestamp_and_random_suffix() -> None:
    keys = {default_key(CiContext(), NOW) for _ in range(3)}
    for key in keys:
        assert re.fullmatch(r"run-20260102030405-[0-9a-f]{4}", key)
    assert len(keys) > 1  # 16 random bits each: three equal draws has probability 2**-32


def test_local_key_uses_utc_and_accepts_naive_and_offset_times() -> None:
    ctx = CiContext(platform="git", commit=SHA)
    plus2 = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert default_key(ctx, plus2) == default_key(ctx, NOW)
    assert default_key(ctx, NOW.replace(tzinfo=None)) == default_key(ctx, NOW)


def test_unique_per_attempt_and_job() -> None:
    base = CiContext(platform="github", run_id="77", run_attempt="1", job="test")
    keys = {default_key(base.replace(**change), NOW) for change in (
        {}, {"run_attempt": "2"}, {"job": "lint"}, {"run_id": "78"})}
    assert len(keys) == 4
    gl = CiContext(platform="gitlab", run_id="5", job="test", job_id="100")
    assert default_key(gl, NOW) != default_key(gl.replace(job_id="101"), NOW)  # a retried job


@pytest.mark.parametrize("job", [
    "test (3.11, ubuntu-latest)",
    "../../etc/passwd",
    "..",
    "-leading dash",
    "ünïcödé / 测试",
    "a" * 400,
    "tabs\tand\nnewlines",
    ".hidden..dots...",
    "~!@#$%^&*()+={}[]|\\:;\"'<>,?",
])
def test_odd_job_names_give_valid_keys(job: str) -> None:
    key = default_key(CiContext(platform="github", run_id="9876543210", run_attempt="1", job=job), NOW)
    assert check_key(key) == key
    assert len(key) <= 128 and ".." not in key and "/" not in key
    assert key.startswith("gh-9876543210-1")


def test_long_keys_stay_distinct() -> None:
    a = default_key(CiContext(platform="github", run_id="1", job="x" * 300 + "a"), NOW)
    b = default_key(CiContext(platform="github", run_id="1", job="x" * 300 + "b"), NOW)
    assert len(a) == len(b) == 128 and a != b


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_every_detected_context_has_a_valid_key(case, tmp_path: Path, nogit: Git,
                                                request: pytest.FixtureRequest) -> None:
    repo = request.getfixturevalue("repo") if case.git != "none" else None
    key = default_key(run_case(case, tmp_path, repo, nogit), NOW)
    assert check_key(key) == key


def test_default_key_from_detect_in_real_checkout(repo) -> None:
    ctx = detect({}, git=repo.runner())
    assert default_key(ctx, NOW) == f"local-{repo.head[:12]}-20260102030405"
