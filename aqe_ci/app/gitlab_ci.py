"""The GitLab CI job's use case: compare the stored run with its baseline and tell the MR.

``aqe ci gitlab`` (the job of the CI/CD component, templates/aqe-artifacts.yml) stores the run, then
calls :func:`compare_and_publish`:

1. compare the run with its baseline (the merge-base run: ``CI_MERGE_REQUEST_DIFF_BASE_SHA``,
   recorded with the run; merged-results pipelines: the target branch tip), evaluate the gates;
2. render the note within GitLab's 1,000,000 characters and decide with ``comment_on`` whether to
   post it (when not, an existing sticky note is still brought up to date);
3. post it through the :class:`~aqe_ci.publish.gitlab.GitLabForge` built here — the composition
   root for GitLab: the note token comes from ``gitlab.token`` or the masked variable named by
   ``token_env`` (``CI_JOB_TOKEN`` cannot write notes); with none, on a fork MR running in the fork,
   or when GitLab refuses, the note goes to ``<out>/note.md`` and the job log, and the job succeeds;
4. write the job-log report, ``<out>/summary.md``, ``<out>/comparison.json``, the Code Quality
   report and the dotenv report (the GitHub action's outputs as ``AQE_<NAME>``).

The raw JUnit and Cobertura/JaCoCo files are copied under ``<out>/reports/`` for GitLab's own
``artifacts:reports:junit`` / ``coverage_report`` widgets (:func:`copy_raw_reports`).
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from aqe_ci.context.gitlab import GitLabJob
from aqe_ci.publish.base import CommentMode, CommentOn, CommentResult, CommentTarget
from aqe_ci.publish.gitlab import GitLabForge

DEFAULT_TITLE = "aqe-artifacts: quality report"
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
    require_baseline: bool = False


@dataclass(frozen=True, kw_only=True)
class JobResult:
    result: dict[str, Any]
    comment: CommentResult
    body: str
    outputs: dict[str, str] = field(default_factory=dict)
    note_file: Path | None = None
    gates: list[dict[str, Any]] = field(default_factory=list)


# -- the composition root for GitLab ---------------------------------------------------------------
def note_token(settings: Mapping[str, Any], environ: Mapping[str, str], token_env: str) -> tuple[str | None, str]:
    """The token for MR notes and, when there is none, why."""
    token = settings.get("token") or None
    if token:
        return token, ""
    if token_env == "CI_JOB_TOKEN":
        return None, "CI_JOB_TOKEN cannot write merge request notes"
    token = (environ.get(token_env) or "").strip() or None
    if token:
        return token, ""
    return None, (f"no token that may write merge request notes: set the masked CI/CD variable {token_env} to a "
                  "project access token (api scope, Developer role); CI_JOB_TOKEN cannot write notes")


def build_forge(job: GitLabJob, settings: Mapping[str, Any], environ: Mapping[str, str], out_dir: Path, *,
                token_env: str = "AQE_GITLAB_TOKEN", stream: IO[str] | None = None) -> GitLabForge:
    """The GitLab forge of this job, with a real python-gitlab client when a note token exists."""
    from aqe_ci.gitlab_api import GitLabClient

    token, reason = note_token(settings, environ, token_env)
    api_url = settings.get("api_url") or job.api_url
    client = None
    if job.runs_in_fork:
        reason = (f"this fork MR's pipeline runs in the fork project; its variables cannot (and must not) write "
                  f"to !{job.mr_iid} — a maintainer can run the pipeline in the parent project to post the note")
    elif token and api_url:
        client = GitLabClient(str(api_url), private_token=token, timeout=float(settings.get("timeout") or 60),
                              max_attempts=int(settings.get("max_attempts") or 5),
                              ssl_verify=bool(settings.get("verify_ssl", True)))
    elif token:
        reason = "no GitLab API URL (CI_API_V4_URL or gitlab.api_url)"
    return GitLabForge(client, web_url=job.mr_project_url or job.project_url, dotenv_file=out_dir / "aqe.env",
                       summary_file=out_dir / "summary.md", codequality_file=out_dir / "gl-code-quality-report.json",
                       stream=stream, no_client_reason=reason)


def comment_target(job: GitLabJob) -> CommentTarget | None:
    if job.mr_iid is None or job.note_project is None:
        return None
    return CommentTarget(project=job.note_project, number=job.mr_iid)


# -- raw reports for GitLab's widgets -----------------------------------------------------------------
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


# -- compare and publish --------------------------------------------------------------------------------
def compare_and_publish(store: Any, forge: GitLabForge, *, key: str, ctx: Any, target: CommentTarget | None,
                        options: JobOptions, git_dir: Path = Path(".")) -> JobResult:
    """Steps 1-4 of the module docstring. Gates are evaluated, not raised: the caller decides."""
    from aqe_ci.compare.engine import compare_runs
    from aqe_ci.compare.gates import check_gates, parse_gates
    from aqe_ci.git import Git

    gates = parse_gates(options.fail_on)
    result = compare_runs(store, key, base_branch=options.baseline or None, git=Git(git_dir),
                          env_base_branch=ctx.base_branch, env_base_sha=ctx.base_sha)
    gate_results = check_gates(result, gates) if gates else []
    if gate_results:
        result["gates"] = gate_results
    options.out_dir.mkdir(parents=True, exist_ok=True)
    _write_json(options.out_dir / "comparison.json", result)
    return publish(forge, result, target=target, key=key, options=options)


def publish(forge: GitLabForge, result: dict[str, Any], *, target: CommentTarget | None, key: str,
            options: JobOptions) -> JobResult:
    from aqe_ci.render.markdown import render_markdown

    body = render_markdown(result, max_chars=forge.comment_limit, comment_id=options.comment_id,
                           title=options.title, max_rows=options.max_rows)
    comment = post_note(forge, target, body, options, result)
    note_file = None
    if comment.action == "fallback" or (target is None and options.comment_mode != "off"):
        note_file = options.out_dir / "note.md"
        note_file.parent.mkdir(parents=True, exist_ok=True)
        note_file.write_text(body, encoding="utf-8")
    forge.write_summary(body + "\n" + _comment_line(comment, note_file))
    forge.annotate(_annotations(result))
    outputs = outputs_for(result, key=key, comment=comment, report_file=str(options.out_dir / "comparison.json"))
    if note_file is not None:
        outputs["comment-file"] = str(note_file)
    forge.set_outputs(outputs)
    return JobResult(result=result, comment=comment, body=body, outputs=outputs, note_file=note_file,
                     gates=list(result.get("gates") or []))


def post_note(forge: GitLabForge, target: CommentTarget | None, body: str, options: JobOptions,
              result: Mapping[str, Any]) -> CommentResult:
    if options.comment_mode == "off":
        return CommentResult(action="skipped", reason="comment-mode is off")
    if target is None:
        return CommentResult(action="skipped", reason="this pipeline belongs to no merge request")
    wanted, why = should_comment(result, options.comment_on)
    if wanted:
        return forge.upsert_comment(target, body, comment_id=options.comment_id, mode=options.comment_mode)
    if forge.find_comment(target, comment_id=options.comment_id) is None:
        return CommentResult(action="skipped", reason=f"comment-on is {options.comment_on} and {why}")
    return forge.upsert_comment(target, body, comment_id=options.comment_id, mode="update")


def should_comment(result: Mapping[str, Any], comment_on: CommentOn) -> tuple[bool, str]:
    """Whether ``comment_on`` asks for a note on this result, and if not, why not (as on GitHub)."""
    if comment_on == "always":
        return True, "always"
    c = result.get("comparison", result)
    gate_failed = any(g.get("status") == "failed" for g in result.get("gates") or [])
    if comment_on == "failures":
        tests = c.get("tests") or {}
        failing = ((tests.get("failed") or {}).get("after") or 0) + ((tests.get("errors") or {}).get("after") or 0)
        return bool(failing or gate_failed), "no test fails and no gate failed"
    has_baseline = bool((c.get("baseline") or {}).get("key"))
    if comment_on == "regressions":
        return bool(gate_failed or (has_baseline and regressions(c))), "nothing regressed against the baseline"
    from aqe_ci.compare.engine import SECTION, has_changes

    if not has_baseline:
        return True, "no baseline"
    changed = any(has_changes(s, c[s]) for s in SECTION.values() if s in c)
    return bool(changed or gate_failed), "nothing changed against the baseline"


def regressions(c: Mapping[str, Any]) -> list[str]:
    out = []
    tests, cov, sec = c.get("tests") or {}, c.get("coverage") or {}, c.get("security") or {}
    if tests.get("new_failures"):
        out.append("new failures")
    change = (cov.get("line_rate") or {}).get("change")
    if change is not None and change < 0:
        out.append("coverage dropped")
    if sum((sec.get("new_by_severity") or {}).values()):
        out.append("new security findings")
    return out


def outputs_for(result: Mapping[str, Any], *, key: str, comment: CommentResult | None = None,
                report_file: str | None = None) -> dict[str, str]:
    """The GitHub action's outputs (action.yml), for the dotenv report."""
    c = result.get("comparison", result)
    base = c.get("baseline") or {}
    line = (c.get("coverage") or {}).get("line_rate") or {}
    tests, sec = c.get("tests"), c.get("security") or {}
    failed = None
    if tests:
        failed = ((tests.get("failed") or {}).get("after") or 0) + ((tests.get("errors") or {}).get("after") or 0)
    new_sec = sec.get("new_by_severity")
    gates = result.get("gates") or []
    return {
        "key": key, "baseline-key": base.get("key") or "", "baseline-sha": base.get("commit") or "",
        "coverage": _num(line.get("after")), "coverage-change": _num(line.get("change")),
        "tests": _num(tests.get("after")) if tests else "", "failed": _num(failed),
        "new-failures": _num(len(tests["new_failures"])) if tests and tests.get("new_failures") is not None else "",
        "fixed": _num(len(tests["fixed"])) if tests and tests.get("fixed") is not None else "",
        "new-security": _num(sum(new_sec.values())) if isinstance(new_sec, Mapping) else "",
        "gates": "none" if not gates else "failed" if any(g.get("status") == "failed" for g in gates) else "passed",
        "comment-id": (comment.comment_id or "") if comment else "",
        "comment-url": (comment.url or "") if comment else "",
        "report-file": report_file or "",
    }


def _num(v: float | int | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(v)


def _annotations(result: Mapping[str, Any]) -> list[Any]:
    from aqe_ci.publish.base import Annotation
    from aqe_ci.render.common import test_label

    c = result.get("comparison", result)
    out = [Annotation(level="error", title=f"New failure: {test_label(t)}"[:200],
                      message=str(t.get("message") or t.get("status") or "failed")[:2000], file=t.get("file"),
                      line=t.get("line")) for t in (c.get("tests") or {}).get("new_failures") or []]
    levels = {"critical": "error", "high": "error", "medium": "warning"}
    out += [Annotation(level=levels.get(f.get("severity") or "", "notice"),  # type: ignore[arg-type]
                       title=f"New {f.get('severity') or 'info'} finding: {f.get('rule_id') or 'unknown rule'}"[:200],
                       message=str(f.get("title") or f.get("rule_id") or "security finding")[:2000],
                       file=f.get("path"), line=f.get("line")) for f in (c.get("security") or {}).get("new") or []]
    return out


def _comment_line(comment: CommentResult, note_file: Path | None) -> str:
    if comment.action == "fallback":
        return (f"The MR note was not posted: {comment.reason}. It is saved in {note_file} "
                "(job artifacts) and above in this log.\n")
    if comment.url:
        return f"MR note {comment.action}: {comment.url}\n"
    return f"MR note: {comment.action}{f' ({comment.reason})' if comment.reason else ''}\n"


def _write_json(path: Path, data: Any) -> None:
    from aqe_ci import secrets

    path.write_text(secrets.redact(json.dumps(data, indent=1, ensure_ascii=False)), encoding="utf-8")


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
