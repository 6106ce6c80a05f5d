"""Badges of the newest run on a branch: read from the store's index and manifests, never a CI log.

``badge_for`` answers from the manifest summaries of the newest run of the type on the branch
(one listing and one manifest read per part); a run stored in several parts is merged the way
``aqe artifacts get`` merges it, so the badge shows the same figure as every other view.

Every surface that writes badge files or publishes them (``aqe artifacts badge --all/--publish``,
the GitHub action, ``aqe ci gitlab``) uses the same pieces: ``render_badges`` (each type),
``write_badge_files`` (``<dir>/<type>.svg`` and ``<type>.json``, a shields.io endpoint) and
``publish_badges`` (both into the store under ``badges/<branch>/``). ``badges_for_run`` is the CI
steps' use case: ``badge_branch`` (when a run makes badges), ``make_badges`` (render and write),
then publish.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aqe_ci.errors import NotFoundError, UsageError
from aqe_ci.model.context import CiContext
from aqe_ci.model.keys import check_type
from aqe_ci.model.summary import summarize
from aqe_ci.render.badge import (
    DEFAULT_COVERAGE_SCALE,
    Badge,
    coverage_badge,
    render_svg,
    security_badge,
    shields_endpoint,
    tests_badge,
)
from aqe_ci.storage import layout
from aqe_ci.storage.base import DocumentBackend
from aqe_ci.storage.store import Store

BADGE_TYPES = {"coverage": "coverage", "tests": "test_results", "security": "security"}
KINDS = tuple(BADGE_TYPES)
DEFAULT_LABELS = {"coverage": "coverage", "tests": "tests", "security": "security"}
BadgeOn = Literal["default-branch", "branches"]
BADGE_ON: tuple[BadgeOn, ...] = ("default-branch", "branches")
NO_BADGES = ("", "none", "false")  # what parse_badge_types reads as no badges
#: the step outputs a CI step sets when badges were asked for (action.yml, the GitLab dotenv report)
BADGE_OUTPUTS = ("badges", "badge-dir")


@dataclass(frozen=True, kw_only=True)
class BadgeResult:
    badge: Badge
    kind: str  # coverage | tests | security
    branch: str
    key: str
    commit: str | None
    summary: Mapping[str, Any]


def latest_summary(store: Store, doc_type: str, branch: str) -> tuple[str, str | None, dict[str, Any]]:
    """(run key, commit, summary) of the newest ``doc_type`` document on ``branch``, parts merged."""
    entry = store.latest(branch=branch, doc_type=check_type(doc_type))
    if entry is None:
        raise NotFoundError(f"no {doc_type} document stored for branch {branch} in {store.location}",
                            hint="store a run on that branch first, or pass --branch")
    manifests = store.manifests(entry.key, doc_type)
    if len(manifests) == 1:
        return entry.key, entry.commit, dict(manifests[0].data.get("summary") or {})
    from aqe_ci.model.merge import merge_documents

    merged = merge_documents(doc_type, [store.load(m) for m in manifests])
    return entry.key, entry.commit, summarize(doc_type, merged["data"])


def make_badge(kind: str, summary: Mapping[str, Any], *, label: str | None = None,
               scale: Sequence[tuple[float, str]] = DEFAULT_COVERAGE_SCALE) -> Badge:
    text = label or DEFAULT_LABELS[kind]
    if kind == "coverage":
        return coverage_badge(summary, label=text, scale=scale)
    if kind == "tests":
        return tests_badge(summary, label=text)
    return security_badge(summary, label=text)


def badge_for(store: Store, kind: str, branch: str, *, label: str | None = None,
              scale: Sequence[tuple[float, str]] = DEFAULT_COVERAGE_SCALE) -> BadgeResult:
    key, commit, summary = latest_summary(store, BADGE_TYPES[kind], branch)
    return BadgeResult(badge=make_badge(kind, summary, label=label, scale=scale), kind=kind, branch=branch,
                       key=key, commit=commit, summary=summary)


def published_name(branch: str, kind: str, extension: str) -> str:
    """Where ``--publish`` puts a badge in the store: ``badges/<branch>/<kind>.<svg|json>``.

    Outside ``runs/`` and ``index/``, so retention and repair never touch it; overwritten on every
    publish (a badge is a view, not history).
    """
    return f"badges/{layout.encode_segment(branch)}/{kind}.{extension}"


# -- writing and publishing (the CLI's --all/--publish, the action, the GitLab job) -------------------
@dataclass(frozen=True, kw_only=True)
class BadgeSettings:
    """The config's ``badges`` section: labels per type and the coverage colour scale."""

    labels: Mapping[str, str] = field(default_factory=dict)
    scale: tuple[tuple[float, str], ...] = DEFAULT_COVERAGE_SCALE

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> BadgeSettings:
        """From the section as JSON (the config schema has checked its shape)."""
        scale = tuple((float(s["min"]), str(s["color"])) for s in section.get("coverage_scale") or [])
        labels = {str(k): str(v) for k, v in (section.get("labels") or {}).items()}
        return cls(labels=labels, scale=scale or DEFAULT_COVERAGE_SCALE)


@dataclass(frozen=True, kw_only=True)
class RenderedBadge:
    result: BadgeResult
    svg: str
    shields: dict[str, Any]

    @property
    def shields_json(self) -> str:
        return json.dumps(self.shields, ensure_ascii=False)


@dataclass(frozen=True, kw_only=True)
class BadgeSet:
    """What ``make_badges`` did: the badges made, the types without a run, the files, the store names."""

    branch: str
    made: tuple[RenderedBadge, ...] = ()
    missing: tuple[str, ...] = ()
    files: tuple[Path, ...] = ()
    published: tuple[str, ...] = ()

    @property
    def kinds(self) -> tuple[str, ...]:
        return tuple(b.result.kind for b in self.made)


def parse_badge_types(text: str | None, *, what: str = "badges") -> tuple[str, ...]:
    """``none`` (or empty) → no badges, ``all`` → every type, else a comma list of coverage, tests, security."""
    value = (text or "").strip().lower()
    if value in NO_BADGES:
        return ()
    if value == "all":
        return KINDS
    kinds = [k.strip() for k in value.split(",") if k.strip()]
    bad = [k for k in kinds if k not in BADGE_TYPES]
    if bad or not kinds:
        raise UsageError(f"{what}: {text!r} is not none, all or a comma list of {', '.join(KINDS)}",
                         hint="e.g. all, or coverage,tests")
    return tuple(dict.fromkeys(kinds))


def badge_branch(ctx: CiContext, on: BadgeOn = "default-branch") -> tuple[str | None, str]:
    """The branch whose badges this CI run makes, or None — and why, in a few words.

    Badges show a branch, so a run of a pull / merge request (its head branch may even be a fork's
    ``main``), of a tag, or of an unknown branch makes none. A GitLab branch pipeline keeps its
    badges when an MR *from* that branch is open (its PR number comes from ``CI_OPEN_MERGE_REQUESTS``:
    the pipeline is still the branch's own). A GitHub ``workflow_run`` run makes none: its branch is
    the triggering run's head, which for a fork's pull request is the fork's branch, and GitHub lists
    no PR for those. ``default-branch``: only runs of the repository's default branch (the CI
    context's, else ``main``); ``branches``: any branch run, each under its own ``badges/<branch>/``.
    """
    from aqe_ci.context.gitlab import OPEN_MR_SOURCE

    if ctx.pr is not None and ctx.sources.get("pr") != OPEN_MR_SOURCE:
        return None, f"this run belongs to pull/merge request #{ctx.pr}"
    if ctx.platform == "github" and ctx.event == "workflow_run":
        return None, ("a workflow_run run tests another run's head, which may be a fork's pull request "
                      "(GitHub lists no PR for those)")
    if ctx.tag:
        return None, f"this is a tag run ({ctx.tag})"
    if not ctx.branch:
        return None, "the run's branch is unknown"
    default = ctx.default_branch or "main"
    if on == "default-branch" and ctx.branch != default:
        return None, f"branch {ctx.branch} is not the default branch {default} (badge-on: branches makes them)"
    return ctx.branch, "the default branch" if ctx.branch == default else "a branch run (badge-on: branches)"


def render_badges(store: Store, branch: str, kinds: Sequence[str], *, settings: BadgeSettings = BadgeSettings(),
                  label: str | None = None, skip_missing: bool = True) -> tuple[list[RenderedBadge], list[str]]:
    """Each type's badge of the newest run on ``branch``, and the types without a run (NotFoundError
    instead when ``skip_missing`` is false)."""
    made: list[RenderedBadge] = []
    missing: list[str] = []
    for kind in kinds:
        try:
            result = badge_for(store, kind, branch, label=label or settings.labels.get(kind), scale=settings.scale)
        except NotFoundError:
            if not skip_missing:
                raise
            missing.append(kind)
            continue
        made.append(RenderedBadge(result=result, svg=render_svg(result.badge), shields=shields_endpoint(result.badge)))
    return made, missing


def check_publishable(store: Store) -> None:
    """UsageError when the store cannot hold badge objects (the github backend keeps whole documents)."""
    if isinstance(store.backend, DocumentBackend):
        raise UsageError(f"the {store.backend.kind} backend stores whole documents only and cannot hold badges",
                         hint="write the badge files instead (--output-dir / badge-dir) and publish them with Pages")


def publish_badges(store: Store, branch: str, badges: Sequence[RenderedBadge]) -> list[str]:
    """Put each badge's SVG and shields JSON into the store under ``badges/<branch>/``; their names."""
    check_publishable(store)
    names: list[str] = []
    for b in badges:
        for ext, text in (("svg", b.svg), ("json", b.shields_json)):
            name = published_name(branch, b.result.kind, ext)
            store.backend.put_bytes(name, text.encode("utf-8"))
            names.append(name)
    return names


def write_badge_files(out_dir: Path, badges: Sequence[RenderedBadge]) -> list[Path]:
    """``<out_dir>/<type>.svg`` and ``<type>.json`` per badge, each written atomically."""
    from aqe_ci.model.files import write_atomic

    paths: list[Path] = []
    for b in badges:
        for ext, text in (("svg", b.svg), ("json", b.shields_json)):
            path = out_dir / f"{b.result.kind}.{ext}"
            write_atomic(path, [text.rstrip("\n")])
            paths.append(path)
    return paths


def make_badges(store: Store, branch: str, kinds: Sequence[str], *, settings: BadgeSettings = BadgeSettings(),
                out_dir: Path | None = None, label: str | None = None) -> BadgeSet:
    """Render the badges of ``kinds`` for ``branch`` (types without a run are skipped and named) and
    write them into ``out_dir`` (``publish_badges`` puts them into the store)."""
    made, missing = render_badges(store, branch, kinds, settings=settings, label=label)
    files = write_badge_files(out_dir, made) if out_dir is not None else []
    return BadgeSet(branch=branch, made=tuple(made), missing=tuple(missing), files=tuple(files))


# -- the CI steps (the GitHub action, aqe ci gitlab) -----------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class BadgeRequest:
    """What a CI step was asked for: which types, which runs make them, where they go."""

    kinds: tuple[str, ...] = ()
    on: BadgeOn = "default-branch"
    out_dir: Path | None = None
    publish: bool = False
    every: bool = False  # "all": a type without a stored run is expected, not a warning

    @classmethod
    def parse(cls, kinds: str | None, *, on: str = "default-branch", out_dir: Path | None = None,
              publish: bool = False, what: str = "badges") -> BadgeRequest:
        if on not in BADGE_ON:
            raise UsageError(f"{what}: badge-on {on!r} is not one of {', '.join(BADGE_ON)}")
        return cls(kinds=parse_badge_types(kinds, what=what), on=on, out_dir=out_dir,
                   publish=publish, every=(kinds or "").strip().lower() == "all")


@dataclass(frozen=True, kw_only=True)
class BadgeStep:
    """What became of a CI step's badges: made (``made``), not this run's business (``skipped``, why)
    and what went wrong (``error``, one line: the step goes on). Both ``made`` and ``error`` when the
    files were written but the store cannot hold badges."""

    made: BadgeSet | None = None
    skipped: str | None = None
    error: str | None = None

    def outputs(self, shown_dir: str) -> dict[str, str]:
        """The ``badges`` and ``badge-dir`` step outputs (``shown_dir``: the folder as the job shows it)."""
        made = self.made
        return {"badges": ",".join(made.kinds) if made else "", "badge-dir": shown_dir if made and made.files else ""}

    def messages(self, request: BadgeRequest, *, shown_dir: str, location: str) -> list[tuple[str, str]]:
        """What the step says about its badges, in order, as (level, text): ``info`` for the log,
        ``notice`` / ``warning`` for what went wrong (a workflow command, a ``Warning:`` line)."""
        out: list[tuple[str, str]] = []
        made = self.made
        if self.skipped:
            out.append(("info", f"badges: none made, {self.skipped}"))
        if self.error:
            out.append(("warning", f"{'badges' if made else 'no badges'}: {self.error}"))
        if made is None:
            return out
        where = [shown_dir] if made.files else []
        if made.published:
            where.append(f"{made.published[0].rsplit('/', 1)[0]}/ in {location}")
        out.append(("info", f"badges of {made.branch}: {', '.join(made.kinds) or 'none'}"
                            + (f" -> {' and '.join(where)}" if where else "")))
        if made.missing:
            out.append(("notice" if request.every else "warning",
                        f"no {', '.join(made.missing)} run stored on {made.branch}: no badge of it"))
        return out


def badges_for_run(store: Store, ctx: CiContext, request: BadgeRequest,
                   settings: BadgeSettings = BadgeSettings()) -> BadgeStep:
    """A CI step's badges, from the run it has just stored: when ``badge_branch`` says this run makes
    them, ``make_badges`` for its branch, then ``publish_badges`` when asked. Never raises: a badge is not worth failing a quality step.
    A store that cannot hold them, or refuses them, leaves the files made (``made`` and ``error``)."""
    branch, why = badge_branch(ctx, request.on)
    if branch is None:
        return BadgeStep(skipped=why)
    try:
        made = make_badges(store, branch, request.kinds, settings=settings, out_dir=request.out_dir)
    except Exception as exc:  # a full disk, a folder that is a file, a backend's surprise
        return BadgeStep(error=_one_line(exc))
    if not request.publish:
        return BadgeStep(made=made)
    try:
        published = publish_badges(store, branch, made.made)
    except Exception as exc:  # the github backend, a policy that allows runs/ and index/ only
        return BadgeStep(made=made, error=f"not published: {_one_line(exc)}")
    return BadgeStep(made=dataclasses.replace(made, published=tuple(published)))


def _one_line(exc: Exception) -> str:
    from aqe_ci.errors import AqeError

    return exc.one_line() if isinstance(exc, AqeError) else f"unexpected {type(exc).__name__}: {exc}"
