"""Fixtures for the GitLab tests: the stateful fake GitLab API (tests/servers/fake_gitlab.py)."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.servers.fake_gitlab import FakeGitLab, Project, standard

_PROJECTS = itertools.count(1)


@pytest.fixture(scope="module")
def fake_gitlab() -> Iterator[FakeGitLab]:
    """One fake GitLab server on 127.0.0.1 per test module."""
    with FakeGitLab() as fake:
        yield fake


@pytest.fixture(scope="module")
def gl(fake_gitlab: FakeGitLab) -> dict[str, Any]:
    """The standard cast: ``acme/app`` (maintainer PAT, a developer's job token, a bot token), MR !7, a fork MR !8."""
    return standard(fake_gitlab)


@pytest.fixture()
def gl_project(fake_gitlab: FakeGitLab, gl: dict[str, Any]) -> Callable[..., Project]:
    """A new, empty project with the cast's users as members (an empty package registry)."""
    def make(**settings: Any) -> Project:
        return fake_gitlab.add_project(f"acme/store-{next(_PROJECTS)}", members={
            gl["maintainer"]: "maintainer", gl["developer"]: "developer", gl["bot"]: "developer"}, **settings)

    return make


@pytest.fixture()
def gl_settings(fake_gitlab: FakeGitLab, gl: dict[str, Any], gl_project: Callable[..., Project]) -> Callable[..., dict[str, Any]]:
    """The "gitlab" config section for a new empty project (a maintainer's token unless ``token=`` is given)."""

    def make(*, token: str | None = None, project: Project | None = None, **settings: Any) -> dict[str, Any]:
        target = project or gl_project()
        return {"api_url": fake_gitlab.api_url, "project": target.path, "token": token or gl["pat"], **settings}

    return make
