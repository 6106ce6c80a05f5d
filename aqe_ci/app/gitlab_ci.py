"""The GitLab CI job's use case: compare the stored run with its baseline and tell the MR.

``aqe ci gitlab`` (the job of the CI/CD component, templates/aqe-artifacts.yml) stores the run, then
calls :func:`compare_and_publish`:

1. compare the run with its baseline (the merge-base run: ``CI_MERGE_REQUEST_DIFF_BASE_SHA``,
   recorded with the run; merged-results pipelines: the target branch tip), evaluate the gates,
   save ``<out>/comparison.json``;
2. publish through :func:`aqe_ci.app.publish.publish_run` with the
   :class:`~aqe_ci.publish.gitlab.GitLabForge` the composition root built
   (:func:`aqe_ci.app.forges.gitlab_forge`): the sticky note within GitLab's 1,000,000 characters
   as ``comment_on`` decides, the full report in the job log and ``<out>/summary.md``, new failures
   and findings as a Code Quality report, the outputs as the dotenv report;
3. when the note was not posted (no MR, no note token, a fork MR running in the fork, GitLab
   refused), save it as ``<out>/note.md`` — an artifact of the job — and name it in the dotenv
   report (``AQE_COMMENT_FILE``). The job still succeeds.

The raw JUnit and Cobertura/JaCoCo files are copied under ``<out>/reports/`` for GitLab's own
``artifacts:reports:junit`` / ``coverage_report`` widgets (:func:`copy_raw_reports`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aqe_ci.app.publish import DEFAULT_TITLE, PublishOptions, PublishResult, publish_run
from aqe_ci.context.gitlab import GitLabJob
from aqe_ci.model.comparison import Comparison
from aqe_ci.publish.base import CommentMode, CommentOn, CommentTarget
from aqe_ci.publish.gitlab import GitLabForge

COVERAGE_FORMATS = ("cobertura", "jacoco")


@dataclass(frozen=True, kw_only=True)
class JobOptions:
    out_dir: Path = Path(".aqe")
    comment_id: str = "default"
    comment_mode: CommentMode = "update"
    comment_on: CommentOn = "always"
    title: str = DEFAULT_TITLE
    max_rows: int | None = 100
    fail_on: str | None = None
    baseline: str | None = None  # base branch override (default: the MR's target branch)


@dataclass(frozen=True, kw_only=True)
class JobResult:
    result: Comparison
    published: PublishResult
    note_file: Path | None = None

    @property
    def gates(self) -> list[dict[str, Any]]:
        return [g.as_json() for g in self.result.gates]


def comment_target(job: GitLabJob) -> CommentTarget | None:
    """The MR whose notes we write: ``CI_MERGE_REQUEST_IID`` of ``CI_MERGE_REQUEST_PROJECT_ID``."""
    if job.mr_iid is None or job.note_project is None:
        return None
    return CommentTarget(project=job.note_project, number=job.mr_iid)


def copy_raw_reports(sources: Iterable[Any], out_dir: Path, *, coverage_format: str = "cobertura") -> dict[str, list[Path]]:
    """Copy the ingested JUnit files to ``<out>/reports/junit/`` and the coverage files of
    ``coverage_format`` to ``<out>/reports/coverage/`` (what the job's ``artifacts:reports`` name)."""
    copied: dict[str, list[Path]] = {"junit": [], "coverage": []}
    for n, src in enumerate(sources):
        kind = "junit" if src.format == "junit" else "coverage" if src.format == coverage_format else None
        path = Path(src.file)
        if kind is None or not path.is_file():
            continue
        dest = out_dir / "reports" / kind / f"{n:03d}-{re.sub(r'[^A-Za-z0-9._-]', '_', path.name)}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, dest)
        copied[kind].append(dest)
    return copied


def compare_and_publish(store: Any, forge: GitLabForge, *, key: str, ctx: Any, target: CommentTarget | None,
                        options: JobOptions, git_dir: Path = Path(".")) -> JobResult:
    """Steps 1-3 of the module docstring. Gates are evaluated, not raised: the caller decides."""
    from aqe_ci import secrets
    from aqe_ci.app.compare import CompareRequest, compare_run
    from aqe_ci.compare.gates import parse_gates
    from aqe_ci.git import Git

    request = CompareRequest(head_key=key, base_branch=options.baseline or None,
                             gates=tuple(parse_gates(options.fail_on)))
    result = compare_run(store, request, git=Git(git_dir), ci=ctx)
    options.out_dir.mkdir(parents=True, exist_ok=True)
    report = options.out_dir / "comparison.json"
    report.write_text(secrets.redact(result.to_json()), encoding="utf-8")
    published = publish_run(forge, result, target=target, key=key, report_file=str(report), options=PublishOptions(
        comment_id=options.comment_id, comment_mode=options.comment_mode, comment_on=options.comment_on,
        title=options.title, max_rows=options.max_rows, head_sha=ctx.commit))
    note_file = None
    if published.comment.action == "fallback" or (target is None and options.comment_mode != "off"):
        note_file = options.out_dir / "note.md"
        note_file.write_text(published.body, encoding="utf-8")
        forge.set_outputs({"comment-file": str(note_file)})
    return JobResult(result=result, published=published, note_file=note_file)


# -- artifacts:expire_in vs the retention config -------------------------------------------------------
_UNITS = {"s": 1 / 86400, "sec": 1 / 86400, "second": 1 / 86400, "m": 1 / 1440, "min": 1 / 1440,
          "minute": 1 / 1440, "h": 1 / 24, "hr": 1 / 24, "hour": 1 / 24, "d": 1, "day": 1, "w": 7, "week": 7,
          "mo": 30, "mos": 30, "month": 30, "y": 365, "yr": 365, "year": 365}


def expire_in_days(text: str) -> float | None:
    """GitLab's ``artifacts:expire_in`` (``30 days``, ``4 weeks``, ``1 mos 2 days``, ``42`` seconds) in days."""
    text = text.strip().lower()
    if not text or text == "never":
        return None
    if text.isdigit():
        return int(text) / 86400
    total, found = 0.0, False
    for number, unit in re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", text):
        unit = unit.rstrip("s") if unit not in _UNITS else unit
        if unit not in _UNITS:
            return None
        total += float(number) * _UNITS[unit]
        found = True
    return total if found else None


def note_plan(job: GitLabJob, section: Mapping[str, Any], environ: Mapping[str, str],
              token_env: str = "AQE_GITLAB_TOKEN") -> tuple[dict[str, Any], str]:
    """Where the job's MR note would go and why, and which token would write it (its source, never
    the token) — what ``aqe doctor`` shows in a GitLab job."""
    target = comment_target(job)
    if target is None:
        comment: dict[str, Any] = {"target": None, "why": "this pipeline belongs to no merge request "
                                                          f"(CI_PIPELINE_SOURCE {job.pipeline_source or 'unknown'})"}
    elif job.runs_in_fork:
        comment = {"target": f"project {target.project} !{target.number}",
                   "why": "a fork MR whose pipeline runs in the fork: the note goes to .aqe/note.md and the log"}
    else:
        comment = {"target": f"project {target.project} !{target.number}",
                   "why": "CI_MERGE_REQUEST_IID of CI_MERGE_REQUEST_PROJECT_ID"}
    if section.get("token"):
        return comment, "gitlab.token of the config"
    if token_env != "CI_JOB_TOKEN" and (environ.get(token_env) or "").strip():
        return comment, token_env
    return comment, (f"none: notes cannot be posted (set the masked CI/CD variable {token_env}; "
                     "CI_JOB_TOKEN cannot write notes)")
