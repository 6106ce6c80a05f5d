"""The GitLab backend beyond the conformance suite: the name mapping, job tokens, the duplicate
setting, errors, retries and what queries cost — all through python-gitlab against the fake API."""

from __future__ import annotations

import json
import socket
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.errors import BackendError, ConflictError, UsageError
from aqe_ci.model.keys import to_ms
from aqe_ci.model.run import RunFacts
from aqe_ci.storage import layout
from aqe_ci.storage.factory import build_backend
from aqe_ci.storage.gitlab import GitLabBackend, Names, decode_value, encode_value, from_settings
from aqe_ci.storage.layout import Entry
from aqe_ci.storage.store import Query, Store
from tests.servers.fake_gitlab import FakeGitLab, Project
from tests.storage.conformance import BackendSpec, doc, run_writers

BASE = datetime(2024, 5, 1, 12, tzinfo=UTC)


def backend(settings: dict[str, Any]) -> GitLabBackend:
    b = build_backend("gitlab", settings)
    assert isinstance(b, GitLabBackend)
    return b


# -- the name mapping ------------------------------------------------------------------------------
ENTRIES = [
    Entry(key="build-1", type="coverage", part="default", created_ms=1_714_564_800_000, commit="ab" * 20,
          branch="main", pr=7, summary={"line_rate": 87.5}),
    Entry(key="k.1_x", type="test_results", part="py3.11_linux", created_ms=1_700_000_000_123,
          commit="not-a-sha", branch="feature/héllo_wörld~x", tags={"a": "b"}),
    Entry(key="k", type="security", part="p", created_ms=86_400_000 * 19_000, branch="." + "x" * 300),
    Entry(key="k2", type="security", part="p", created_ms=1, branch="_%25_u_p"),
]


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.key)
def test_every_index_name_maps_to_a_package_and_back(entry: Entry) -> None:
    names = Names("aqe")
    for name in layout.entry_names(entry):
        remote = names.remote(name)
        assert remote.index and remote.file == "entry"
        assert len(remote.package) <= 255 and len(remote.version) <= 255
        assert "~" not in remote.version and ".." not in remote.version
        back = names.index_name(remote.package, remote.version)
        if "_h" in remote.package:  # a value too long for a package name: hashed, read from the entry file
            assert name.startswith("index/branch/")
        else:
            assert back == name


def test_run_names_map_to_type_packages_keyed_by_run_key() -> None:
    names = Names("qe")
    remote = names.remote("runs/build-abc.1/coverage/linux-py3.11/data-0123456789abcdef.json.gz")
    assert (remote.package, remote.version, remote.file) == ("qe-coverage", "build-abc.1",
                                                             "linux-py3.11+data-0123456789abcdef.json.gz")
    assert names.run_name(remote.package, remote.version, remote.file) == \
        "runs/build-abc.1/coverage/linux-py3.11/data-0123456789abcdef.json.gz"
    for bad in ("runs/a/coverage/p", "runs/a/nope/p/f", "elsewhere/x", "index/time/x", "runs/a..b/coverage/p/f"):
        with pytest.raises(UsageError, match="outside the storage layout"):
            names.remote(bad)


def test_published_badges_map_to_one_package_versioned_by_branch() -> None:
    names = Names("aqe")
    remote = names.remote(f"badges/{layout.encode_segment('feature/x_y')}/coverage.svg")
    assert (remote.package, remote.version, remote.file, remote.index) == ("aqe-badges", "feature_p2Fx_uy",
                                                                           "coverage.svg", False)
    long = names.remote(f"badges/{layout.encode_segment('b' * 240)}/tests.json")
    assert len(long.version) <= 200 and long.version.startswith("b" * 160 + "_h")
    # the badge package never matches a query for a run or index package, nor they it
    assert not any(names.badge_package in q or q in names.badge_package
                   for q in [names.run_package(t) for t in ("test_results", "coverage", "security")] + [names.index_base])
    for bad in ("badges/main/coverage.png", "badges/main/x/coverage.svg", "badges/main/../x.svg", "badges/main"):
        with pytest.raises(UsageError, match="outside the storage layout"):
            names.remote(bad)


def test_encoded_values_never_contain_the_separator_so_names_are_substring_free() -> None:
    values = ["main", "main2", "feature%2Fmain", "x_main", "ma", "Main", "m_uain", "m_pain"]
    encoded = {v: encode_value(v) for v in values}
    assert all("+" not in e for e in encoded.values())
    assert all(decode_value(e) == v for v, e in encoded.items())
    names = Names("aqe")
    packages = [names.index_package("branch", v) for v in values]
    for a in packages:
        hits = [b for b in packages if a.lower() in b.lower()]
        assert [h for h in hits if h == a] == [a]
        assert all(h.lower() == a.lower() for h in hits)  # only case twins also match (filtered exactly)


# -- queries -------------------------------------------------------------------------------------------
def test_branch_queries_see_only_their_branch_in_one_request(gl_settings: Callable[..., dict[str, Any]],
                                                          fake_gitlab: FakeGitLab) -> None:
    settings = gl_settings()
    store = Store(backend(settings))
    branches = ["main", "main2", "feature/main", "Main", "release/1.x", "x_main"]
    for i, branch in enumerate(branches * 2):
        store.put_document(doc(i), key=f"r-{i:02d}", created_at=BASE + timedelta(hours=i),
                           run=RunFacts(branch=branch, commit=f"{i:04d}" + "e" * 36))
    probe = Store(backend(settings))
    before = probe.backend.request_count
    latest = probe.latest(branch="main")
    assert latest is not None and latest.key == "r-06"
    assert probe.backend.request_count - before == 1
    assert [e.key for e in probe.list(Query(branch="Main"))] == ["r-09", "r-03"]
    assert [e.key for e in probe.list(Query(branch="feature/main"))] == ["r-08", "r-02"]
    assert [e.key for e in probe.by_commit("0007")] == ["r-07"]
    before = probe.backend.request_count
    assert [e.key for e in probe.list(Query(limit=3))] == ["r-11", "r-10", "r-09"]
    assert probe.backend.request_count - before == 1


def test_until_and_since_filter_by_the_stores_own_time(gl_settings: Callable[..., dict[str, Any]]) -> None:
    store = Store(backend(gl_settings()))
    for i in range(6):
        store.put_document(doc(i), key=f"t-{i}", created_at=BASE + timedelta(days=i), run=RunFacts(branch="main"))
    until = to_ms(BASE + timedelta(days=3, hours=1))
    assert store.latest(branch="main", before_ms=until).key == "t-3"
    since = to_ms(BASE + timedelta(days=4))
    assert [e.key for e in store.list(Query(since_ms=since))] == ["t-5", "t-4"]


def test_index_packages_are_hidden_unless_configured(gl_settings: Callable[..., dict[str, Any]], fake_gitlab: FakeGitLab,
                                                     gl_project: Callable[..., Project]) -> None:
    hidden_project, shown_project = gl_project(), gl_project()
    for project, hide in ((hidden_project, True), (shown_project, False)):
        store = Store(backend(gl_settings(project=project, hide_index=hide)))
        store.put_document(doc(1), key="h-1", run=RunFacts(branch="main"))
        assert [e.key for e in store.list(Query(branch="main"))] == ["h-1"]
        statuses = {p.name: p.status for p in fake_gitlab.project_packages(project)}
        assert statuses.pop("aqe-test_results") == "default"
        assert set(statuses.values()) == {"hidden" if hide else "default"}


def test_a_server_without_the_version_filter_still_answers_correctly(gl_settings: Callable[..., dict[str, Any]],
                                                                   fake_gitlab: FakeGitLab) -> None:
    store = Store(backend(gl_settings()))
    for i in range(3):
        store.put_document(doc(i), key=f"v-{i}", run=RunFacts(branch="main"))
    fake_gitlab.version_filter = False  # GitLab < 16.6 ignores package_version
    try:
        assert [m.key for m in Store(store.backend).manifests("v-1")] == ["v-1"]
    finally:
        fake_gitlab.version_filter = True


# -- the create-only commit point ------------------------------------------------------------------
def test_duplicates_refused_by_us_whatever_the_project_setting(gl_settings: Callable[..., dict[str, Any]],
                                                               gl_project: Callable[..., Project],
                                                               fake_gitlab: FakeGitLab) -> None:
    for allowed in (True, False):
        project = gl_project(duplicates_allowed=allowed)
        store = Store(backend(gl_settings(project=project)))
        store.put_document(doc(1), key="d-1")
        with pytest.raises(ConflictError) as err:
            store.put_document(doc(2), key="d-1")
        assert err.value.exit_code == 3
        replaced = store.put_document(doc(3), key="d-1", overwrite=True)
        assert store.load(store.manifest("d-1", "test_results"))["data"]["tests_run"] == 3
        files = [f.file_name for p in fake_gitlab.project_packages(project) if p.name == "aqe-test_results"
                 for f in p.files]
        assert files.count("default+manifest.json") == (2 if allowed else 1)  # the newest is the one read
        assert replaced.data["payload"]["object"].rsplit("/", 1)[1] in {f.split("+", 1)[1] for f in files}


def test_job_token_writes_race_correctly_and_leaves_what_only_a_maintainer_can_remove(
        gl_settings: Callable[..., dict[str, Any]], gl: dict[str, Any], gl_project: Callable[..., Project],
        fake_gitlab: FakeGitLab, tmp_path: Path) -> None:
    """A Developer's CI_JOB_TOKEN may upload and list but not delete (documented exception)."""
    project = gl_project()
    spec = BackendSpec("gitlab", gl_settings(project=project, token=gl["job_token"]))
    plans = [{"jobs": [{"key": "same", "n": i, "writer": f"w{i}"}]} for i in range(8)]
    lines = [ln for ln in run_writers(spec, tmp_path, plans) if ln["state"] != "started"]
    assert sorted(ln["state"] for ln in lines) == ["conflict"] * 7 + ["ok"], lines
    store = spec.store()
    assert [e.key for e in store.list(Query())] == ["same"]
    files = [f.file_name for p in fake_gitlab.project_packages(project) if p.name == "aqe-test_results" for f in p.files]
    assert files.count("default+manifest.json") == 1
    assert sum(f.startswith("default+data-") for f in files) == 8  # the losers' payloads could not be deleted
    maintainer = Store(backend(gl_settings(project=project)))
    report = maintainer.repair(grace_seconds=0)
    assert len(report["orphans"]) >= 7
    left = {f.file_name for p in fake_gitlab.project_packages(project) if p.name == "aqe-test_results" for f in p.files}
    assert left == {"default+manifest.json", "default+" + store.manifest("same", "test_results").payload["object"]
                    .rsplit("/", 1)[1]}
    with pytest.raises(BackendError) as err:
        store.delete("same")
    assert "needs the Maintainer role" in err.value.one_line()


def test_concurrent_creation_of_one_package_is_retried(gl_settings: Callable[..., dict[str, Any]],
                                                       fake_gitlab: FakeGitLab, tmp_path: Path) -> None:
    """GitLab answers 500 when two uploads create one new package at once (reference §5.4)."""
    spec = BackendSpec("gitlab", gl_settings())
    fake_gitlab.create_race_window = 0.05
    try:
        plans = [{"jobs": [{"key": "race", "part": f"p{i}", "n": i, "writer": str(i)}]} for i in range(6)]
        states = [ln["state"] for ln in run_writers(spec, tmp_path, plans) if ln["state"] != "started"]
    finally:
        fake_gitlab.create_race_window = 0.002
    assert states == ["ok"] * 6
    assert any(r.status == 500 for r in fake_gitlab.requests if r.method == "PUT")
    assert len(Store(backend(spec.settings)).manifests("race")) == 6


# -- errors and retries ----------------------------------------------------------------------------
def test_throttling_is_waited_out_with_retry_after(gl_settings: Callable[..., dict[str, Any]], fake_gitlab: FakeGitLab) -> None:
    store = Store(backend(gl_settings()))
    fake_gitlab.throttle(2, retry_after=1)
    store.put_document(doc(1), key="slow")
    assert store.backend.client.retries == 2
    assert [e.key for e in store.list(Query())] == ["slow"]


def test_throttled_past_the_attempts_is_a_one_line_backend_error(gl_settings: Callable[..., dict[str, Any]],
                                                                 fake_gitlab: FakeGitLab) -> None:
    store = Store(backend(gl_settings(max_attempts=2)))
    fake_gitlab.throttle(2, retry_after=0)
    with pytest.raises(BackendError) as err:
        list(store.list(Query()))
    assert err.value.exit_code == 8
    assert "GitLab: throttled (429)" in err.value.one_line()


@pytest.mark.parametrize("case", ["disabled", "too-large", "no-project", "bad-token", "reporter", "unreachable"])
def test_errors_name_gitlab_and_the_fix(case: str, gl_settings: Callable[..., dict[str, Any]], gl: dict[str, Any],
                                        gl_project: Callable[..., Project], fake_gitlab: FakeGitLab) -> None:
    settings = gl_settings()
    project = next(p for p in fake_gitlab.projects.values() if p.path == settings["project"])
    if case == "disabled":
        project.packages_enabled = False
    elif case == "too-large":
        project.max_file_size = 100
    elif case == "no-project":
        settings["project"] = "acme/missing"
    elif case == "bad-token":
        settings["token"] = "glpat-wrong-00000000000000"
    elif case == "reporter":
        project.members[gl["developer"].id] = "reporter"
        settings["token"] = gl["job_token"]
    elif case == "unreachable":
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        settings.update(api_url=f"http://127.0.0.1:{port}/api/v4", max_attempts=1)
    try:
        with pytest.raises(BackendError) as err:
            Store(backend(settings)).put_document(doc(1, size=5000), key="e-1")
    finally:
        project.members[gl["developer"].id] = "developer"
    line = err.value.one_line()
    assert err.value.exit_code == 8 and "\n" not in line and line.startswith("GitLab")
    assert settings["token"] not in line
    expected = {"disabled": "enable the package registry", "too-large": "file size limit",
                "no-project": "gitlab.project", "bad-token": "gitlab.token", "reporter": "Developer role",
                "unreachable": "gitlab.api_url"}[case]
    assert expected in line, line


def test_from_settings_takes_gitlab_ci_variables(gl: dict[str, Any], fake_gitlab: FakeGitLab) -> None:
    env = {"CI_API_V4_URL": fake_gitlab.api_url, "CI_PROJECT_ID": str(gl["project"].id),
           "CI_JOB_TOKEN": gl["job_token"]}
    b = from_settings({}, env)
    assert b.client.auth_kind == "job token" and b.project_ref == str(gl["project"].id)
    b2 = from_settings({"token": gl["pat"]}, env)
    assert b2.client.auth_kind == "access token"
    with pytest.raises(UsageError, match="no token") as err:
        from_settings({}, {"CI_API_V4_URL": fake_gitlab.api_url, "CI_PROJECT_ID": "1"})
    assert err.value.exit_code == 2
    with pytest.raises(UsageError, match="no project"):
        from_settings({"token": "x" * 20}, {"CI_API_V4_URL": fake_gitlab.api_url})
    with pytest.raises(UsageError, match="unknown gitlab setting"):
        from_settings({"bucket": "x"}, env)


# -- the CLI on the gitlab backend -----------------------------------------------------------------------
def test_cli_store_list_get_compare_on_gitlab(aqe: Any, workdir: Path, gl_settings: Callable[..., dict[str, Any]],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    config = workdir / "storage.json"
    config.write_text(json.dumps({"backend": "gitlab", "gitlab": {**gl_settings(), "token": "${AQE_TEST_GL_TOKEN}"}}))
    monkeypatch.setenv("AQE_TEST_GL_TOKEN", gl_settings()["token"])
    monkeypatch.setenv("AQE_CONFIG", str(config))
    report = Path(tempfile.mkdtemp()) / "junit.xml"
    report.write_text('<testsuite name="s" tests="2"><testcase classname="c" name="a"/>'
                      '<testcase classname="c" name="b"><failure message="x"/></testcase></testsuite>')
    first = aqe("artifacts", "store", "--file", str(report), "--key", "cli-1", "--branch", "main",
                "--commit", "c" * 40)
    assert first.code == 0, first.err
    again = aqe("artifacts", "store", "--file", str(report), "--key", "cli-1")
    assert again.code == 3 and again.err.startswith("Error: document cli-1/test_results/default already exists in "
                                                    "the GitLab package registry")
    listed = aqe("artifacts", "list", "--limit", "10", "--format", "json")
    assert [a["key"] for a in json.loads(listed.out)["artifacts"]] == ["cli-1"]
    got = aqe("artifacts", "get", "--branch", "main", "--latest", "--type", "test_results")
    assert json.loads(got.out)["data"]["failed"] == 1
    assert aqe("artifacts", "get", "--commit", "cccc").code == 0
    assert gl_settings()["token"] not in first.out + first.err + listed.out + got.out


def test_cli_cleanup_and_delete_on_gitlab(aqe: Any, workdir: Path, gl_settings: Callable[..., dict[str, Any]],
                                          fake_gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = gl_settings()
    store = Store(backend(settings))
    now = datetime.now(UTC)
    for i in range(4):
        store.put_document(doc(i), key=f"old-{i}", created_at=now - timedelta(days=100 + i),
                           run=RunFacts(branch="feature"))
    store.put_document(doc(9), key="main-1", created_at=now - timedelta(days=200), run=RunFacts(branch="main"))
    config = workdir / "storage.json"
    config.write_text(json.dumps({"backend": "gitlab", "gitlab": settings, "retention": {"keep_latest_n": 1}}))
    monkeypatch.setenv("AQE_CONFIG", str(config))
    dry = aqe("artifacts", "cleanup", "--dry-run")
    assert dry.code == 0 and dry.out.count("would delete") == 3, dry.out
    done = aqe("artifacts", "cleanup", "--yes")
    assert done.code == 0, done.err
    assert sorted(e.key for e in store.list(Query())) == ["main-1", "old-0"]  # newest and the protected branch's latest
    assert aqe("artifacts", "delete", "old-0", "--yes").code == 0
    project = next(p for p in fake_gitlab.projects.values() if p.path == settings["project"])
    assert {p.version for p in fake_gitlab.project_packages(project) if not p.name.startswith("aqe-idx")} == {"main-1"}


def test_copy_history_from_local_into_gitlab_and_back(gl_settings: Callable[..., dict[str, Any]], tmp_path: Path) -> None:
    from aqe_ci.app.copy import copy_history

    local = Store(build_backend("local", {"base_path": str(tmp_path / "local")}))
    for i in range(4):
        local.put_document(doc(i), key=f"c-{i}", created_at=BASE + timedelta(days=i),
                           run=RunFacts(branch="main", commit=f"{i:04d}" + "f" * 36), tags={"suite": "unit"})
    remote = Store(backend(gl_settings()))
    report = copy_history(local, remote)
    assert sorted(report.copied) == [f"c-{i}/test_results/default" for i in range(4)]
    assert copy_history(local, remote).skipped == report.copied  # a rerun changes nothing
    assert remote.latest(branch="main").key == "c-3" and remote.by_commit("0001")[0].tags == {"suite": "unit"}
    back = Store(build_backend("local", {"base_path": str(tmp_path / "back")}))
    assert len(copy_history(remote, back).copied) == 4
    assert back.load(back.manifest("c-2", "test_results")) == local.load(local.manifest("c-2", "test_results"))
