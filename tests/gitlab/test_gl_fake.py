"""The real python-gitlab client judges the fake GitLab API: what it sends and expects back works."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import gitlab
import pytest

from tests.servers.fake_gitlab import FakeGitLab, Project


def client(fake: FakeGitLab, token: str, *, job: bool = False) -> gitlab.Gitlab:
    return gitlab.Gitlab(fake.url, job_token=token) if job else gitlab.Gitlab(fake.url, private_token=token)


def test_generic_packages_round_trip_and_pagination(fake_gitlab: FakeGitLab, gl: dict[str, Any],
                                                    gl_project: Callable[..., Project]) -> None:
    project = gl_project()
    api = client(fake_gitlab, gl["pat"]).projects.get(project.path, lazy=True)
    for i in range(130):
        api.generic_packages.upload(f"Pkg-{i % 3}", f"1.0.{i}", "file.txt", data=f"payload {i}".encode())
    assert api.generic_packages.download("Pkg-1", "1.0.4", "file.txt") == b"payload 4"
    everything = api.packages.list(get_all=True, package_type="generic")  # follows the Link header
    assert len(everything) == 130
    newest = api.packages.list(order_by="created_at", sort="desc", per_page=5, get_all=False)
    assert [p.version for p in newest] == [f"1.0.{i}" for i in range(129, 124, -1)]
    fuzzy = api.packages.list(package_name="pkg-1", get_all=True)  # case-insensitive substring
    assert {p.name for p in fuzzy} == {"Pkg-1"} and len(fuzzy) == 43
    exact = api.packages.list(package_name="pkg", package_version="1.0.7", get_all=True)
    assert [(p.name, p.version) for p in exact] == [("Pkg-1", "1.0.7")]
    by_version = api.packages.list(package_name="Pkg-0", order_by="version", sort="asc", per_page=3, get_all=False)
    assert [p.version for p in by_version] == ["1.0.0", "1.0.102", "1.0.105"]  # string order, as the database sorts


def test_files_duplicates_hidden_and_deletes(fake_gitlab: FakeGitLab, gl: dict[str, Any],
                                            gl_project: Callable[..., Project]) -> None:
    project = gl_project()
    api = client(fake_gitlab, gl["pat"]).projects.get(project.path, lazy=True)
    api.generic_packages.upload("p", "1", "a.txt", data=b"old")
    api.generic_packages.upload("p", "1", "a.txt", data=b"new")  # duplicates allowed: a second file
    assert api.generic_packages.download("p", "1", "a.txt") == b"new"  # the newest is returned
    pkg = api.packages.list(package_name="p", get_all=True)[0]
    files = api.packages.get(pkg.id, lazy=True).package_files.list(get_all=True)
    assert [f.file_name for f in files] == ["a.txt", "a.txt"]
    api.generic_packages.upload("h", "1", "x", data=b"1", status="hidden")
    assert [p.name for p in api.packages.list(get_all=True)] == ["p"]
    assert [p.name for p in api.packages.list(status="hidden", get_all=True)] == ["h"]
    job = client(fake_gitlab, gl["job_token"], job=True).projects.get(project.path, lazy=True)
    assert job.generic_packages.download("p", "1", "a.txt") == b"new"  # a job token reads and writes packages
    with pytest.raises(gitlab.exceptions.GitlabDeleteError) as err:
        job.packages.get(pkg.id, lazy=True).package_files.delete(files[0].id)
    assert err.value.response_code == 403  # … but a Developer's job token cannot delete
    api.packages.get(pkg.id, lazy=True).package_files.delete(files[0].id)
    api.packages.delete(pkg.id)
    with pytest.raises(gitlab.exceptions.GitlabGetError):
        api.generic_packages.download("p", "1", "a.txt")


def test_names_and_duplicates_are_refused_as_gitlab_does(fake_gitlab: FakeGitLab, gl: dict[str, Any],
                                                         gl_project: Callable[..., Project]) -> None:
    project = gl_project(duplicates_allowed=False)
    api = client(fake_gitlab, gl["pat"]).projects.get(project.path, lazy=True)
    for name, version, file in (("a~b", "1", "f"), ("a", "1..2", "f"), ("a", "1", "f~x"), ("a" * 256, "1", "f")):
        with pytest.raises(gitlab.exceptions.GitlabUploadError) as err:
            api.generic_packages.upload(name, version, file, data=b"x")
        assert err.value.response_code == 400
    api.generic_packages.upload("a", "1", "f", data=b"x")
    with pytest.raises(gitlab.exceptions.GitlabUploadError) as dup:
        api.generic_packages.upload("a", "1", "f", data=b"y")
    assert dup.value.response_code == 400 and "Duplicate package is not allowed" in str(dup.value)


def test_python_gitlab_itself_waits_out_429_retry_after(fake_gitlab: FakeGitLab, gl: dict[str, Any]) -> None:
    api = client(fake_gitlab, gl["pat"])
    fake_gitlab.throttle(1, retry_after=1, match=lambda m, p: p.endswith("/user"))
    started = time.monotonic()
    api.auth()
    assert time.monotonic() - started >= 1 and api.user.username == "maintainer"
    assert [r.status for r in fake_gitlab.requests if r.path.endswith("/user")][-2:] == [429, 200]
