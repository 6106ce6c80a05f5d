"""Detect the CI context from environment variables (plus the local git checkout as a fallback).

``detect`` is a pure function of its inputs: the environment mapping, the GitHub event payload
file it names, and what the injected :class:`Git` answers. It never raises for bad input:
unreadable or invalid values are ignored and listed in ``CiContext.warnings``. Which variable each
field comes from on each platform is documented in ``docs/ci-context.md``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from aqe_ci.context.github import detect_github
from aqe_ci.context.gitlab import detect_gitlab
from aqe_ci.context.others import (
    detect_azure,
    detect_bitbucket,
    detect_buildkite,
    detect_circleci,
    detect_jenkins,
)
from aqe_ci.context.reader import Reader
from aqe_ci.git import CONTEXT_TIMEOUT, Git, slug_from_url
from aqe_ci.model.context import VALUE_FIELDS, CiContext


def _is(name: str) -> Callable[[Reader], bool]:
    return lambda r: r.is_true(name)


#: (platform, is-it-this-platform, detector), checked in order; the first match wins
PLATFORMS: tuple[tuple[str, Callable[[Reader], bool], Callable[[Reader], None]], ...] = (
    ("github", _is("GITHUB_ACTIONS"), detect_github),
    ("gitlab", _is("GITLAB_CI"), detect_gitlab),
    ("circleci", _is("CIRCLECI"), detect_circleci),
    ("buildkite", _is("BUILDKITE"), detect_buildkite),
    ("azure", _is("TF_BUILD"), detect_azure),
    ("bitbucket", lambda r: r.get("BITBUCKET_BUILD_NUMBER") is not None, detect_bitbucket),
    ("jenkins", lambda r: r.get("JENKINS_URL") is not None, detect_jenkins),
)


def detect(environ: Mapping[str, str], *, cwd: Path | None = None, git: Git | None = None) -> CiContext:
    """The CI context of the current run.

    ``git`` answers questions about the checkout (default: real git in ``cwd``, or the current
    directory). On a CI platform git only fills a missing commit / repository; outside CI the
    checkout is the whole context (platform ``"git"``); outside a checkout everything is None.
    """
    if git is None:
        git = Git(cwd, timeout=CONTEXT_TIMEOUT)
    r = Reader(environ, git)
    for _name, matches, detector in PLATFORMS:
        if matches(r):
            detector(r)
            _fill_from_git(r, git)
            break
    else:
        _local_checkout(r, git)
    values = {k: v for k, v in r.values.items() if k in VALUE_FIELDS}
    return CiContext(**values, sources=dict(r.sources), warnings=tuple(r.warnings))


def _fill_from_git(r: Reader, git: Git) -> None:
    """On CI, take what the platform did not say (commit, repository) from the checkout."""
    if not r.has("commit"):
        r.put("commit", git.head_sha(), "git rev-parse HEAD")
    if not r.has("repository"):
        r.put("repository", slug_from_url(git.remote_url()), "git remote get-url origin")


def _local_checkout(r: Reader, git: Git) -> None:
    if not git.inside_work_tree():
        return
    r.put("platform", "git", "git checkout (no CI detected)")
    r.put("commit", git.head_sha(), "git rev-parse HEAD")
    r.put("branch", git.head_branch(), "git symbolic-ref HEAD")
    r.put("repository", slug_from_url(git.remote_url()), "git remote get-url origin")
    r.put("default_branch", git.remote_default_branch(), "git symbolic-ref refs/remotes/origin/HEAD")
