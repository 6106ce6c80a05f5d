"""The storage conformance suite (tests/storage/conformance.py) on the GitLab backend.

The store lives in a project's generic package registry on the fake GitLab API, driven by the real
python-gitlab client; each store is a new, empty project. Variants:

* ``gitlab``: the project's default duplicate setting (a second upload of a name adds a file);
* ``gitlab-no-duplicates``: the group disallows duplicate generic packages (GitLab answers
  ``400 Duplicate package is not allowed``) — the create-only protocol must give the same answers.

Exceptions (documented in docs/storage-layout.md, tested in test_gl_storage.py): with a Developer's
``CI_JOB_TOKEN`` nothing can be deleted, so ``--overwrite``, a conflict loser's payload removal and
cleanup need a Maintainer's token; the 32- and 8-writer races still give exactly one winner there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from aqe_ci.storage.gitlab import GitLabBackend
from tests.servers.fake_gitlab import FakeGitLab
from tests.storage.conformance import BackendSpec, StoreConformance

WRITE_PROTOCOL_TESTS = {
    "test_second_write_conflicts_and_overwrite_replaces",
    "test_document_without_manifest_is_invisible_and_collected",
    "test_8_concurrent_writers_of_one_document_exactly_one_wins",
    "test_backend_is_the_gitlab_registry",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_spec" in metafunc.fixturenames:
        kinds = ["gitlab"]
        if metafunc.function.__name__ in WRITE_PROTOCOL_TESTS:
            kinds.append("gitlab-no-duplicates")
        metafunc.parametrize("backend_kind", kinds, ids=kinds)


@pytest.fixture()
def backend_spec(backend_kind: str, gl_settings: Callable[..., dict[str, Any]], gl_project: Any) -> BackendSpec:
    def make() -> BackendSpec:
        project = gl_project(duplicates_allowed=backend_kind == "gitlab")
        return BackendSpec("gitlab", gl_settings(project=project), label=backend_kind, fresh=make)

    return make()


class TestGitLabConformance(StoreConformance):
    def test_backend_is_the_gitlab_registry(self, backend_spec: BackendSpec, fake_gitlab: FakeGitLab) -> None:
        backend = backend_spec.make()
        assert isinstance(backend, GitLabBackend)
        assert backend.client.url.startswith("http://127.0.0.1:")
        project = next(p for p in fake_gitlab.projects.values() if p.path == backend_spec.settings["project"])
        assert project.duplicates_allowed is (backend_spec.label == "gitlab")
