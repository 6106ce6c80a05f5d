"""``publish_run``: tell the pull request what changed — comment, job summary, annotations, outputs.

One use case for every surface (the GitHub action, the GitLab component, ``aqe artifacts comment``):
it receives a ready :class:`~aqe_ci.publish.base.Forge` and the typed
:class:`~aqe_ci.model.comparison.Comparison` ``compare_run`` returned, and

1. renders the comment within the forge's limit (``aqe_ci.render.markdown``);
2. decides with ``comment_on`` whether this run deserves a comment — when it does not, an existing
   sticky comment is still brought up to date so it never shows stale numbers;
3. posts it (``comment_mode``); when the forge refuses (a fork PR's read-only token) the comment is
   saved to ``fallback_file`` for a trusted job (``aqe artifacts comment --from-file``) and the run
   succeeds;
4. writes the full report (up to 1 MiB) to the job summary, the annotations for new failures and
   new security findings, and the step outputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aqe_ci.model.comparison import Comparison, GateResult
from aqe_ci.publish.base import (
    AnnotateResult,
    Annotation,
    AnnotationLevel,
    CommentMode,
    CommentOn,
    CommentResult,
    CommentTarget,
    Forge,
)
from aqe_ci.render.common import test_label

DEFAULT_TITLE = "aqe-artifacts: quality report"
SUMMARY_BYTES = 1024 * 1024 - 8 * 1024  # a step summary may hold 1 MiB; keep room for notes
SECURITY_LEVEL: dict[str, AnnotationLevel] = {"critical": "error", "high": "error", "medium": "warning",
                                              "low": "notice", "info": "notice"}


@dataclass(frozen=True, kw_only=True)
class PublishOptions:
    comment_id: str = "default"
    comment_mode: CommentMode = "update"
    comment_on: CommentOn = "always"
    title: str = DEFAULT_TITLE
    max_rows: int | None = 100  # rows per detail table in the comment (the summary has no cap)
    job_summary: bool = True
    annotations: bool = True
    fallback_file: Path | None = None  # where a refused comment is saved
    head_sha: str | None = None  # recorded in the fallback file (informational)


@dataclass(frozen=True, kw_only=True)
class PublishResult:
    comment: CommentResult
    body: str
    outputs: dict[str, str] = field(default_factory=dict)
    annotations: AnnotateResult | None = None
    fallback_file: Path | None = None


def publish_run(forge: Forge, result: Comparison, *, target: CommentTarget | None, key: str,
                options: PublishOptions = PublishOptions(), report_file: str | None = None) -> PublishResult:
    """Publish one comparison result through ``forge`` (see the module docstring)."""
    from aqe_ci.render.markdown import render_markdown

    body = render_markdown(result, max_chars=forge.comment_limit, comment_id=options.comment_id,
                           title=options.title, max_rows=options.max_rows)
    comment = post_comment(forge, target, body, options, result)
    fallback = None
    if comment.action == "fallback" and options.fallback_file is not None and target is not None:
        fallback = save_comment(options.fallback_file, target, body, options, result, comment.reason)
    if options.job_summary:
        forge.write_summary(summary_markdown(result, options, comment, fallback))
    notes = forge.annotate(annotations_for(result)) if options.annotations else None
    outs = outputs_for(result, key=key, comment=comment, report_file=report_file)
    if fallback is not None:
        outs["comment-file"] = str(fallback)
    forge.set_outputs(outs)
    return PublishResult(comment=comment, body=body, outputs=outs, annotations=notes, fallback_file=fallback)


def publish_comment_file(forge: Forge, path: Path, *, project: str, sha: str,
                         job_summary: bool = True) -> tuple[PublishResult, list[str]]:
    """Post a saved comment file (:mod:`aqe_ci.publish.file`) from a trusted job.

    The pull request is the open PR of ``project`` whose head is ``sha``, as the forge says (the
    trusted job's own event gives ``sha``); the file's ``target`` is never used. The body is rendered
    again from the file's ``result``. Returns the result and warnings (file and forge disagreeing).
    """
    from aqe_ci.errors import BackendError, InvalidInputError, NotFoundError
    from aqe_ci.model.keys import KEY_RE
    from aqe_ci.publish.file import read_comment_file
    from aqe_ci.render.markdown import render_markdown

    record = read_comment_file(path)
    options = PublishOptions(comment_id=record.comment_id, comment_mode=record.mode, comment_on="always",
                             title=record.title or DEFAULT_TITLE, max_rows=record.max_rows,
                             job_summary=job_summary, annotations=False)
    try:  # the result came from an untrusted run: it must parse and render with our escaping, or it is refused
        comparison = Comparison.from_json(record.result)
        render_markdown(comparison, max_chars=forge.comment_limit, comment_id=options.comment_id,
                        title=options.title, max_rows=options.max_rows)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise InvalidInputError(f"{path}: $.result is not a comparison this version can render "
                                f"({type(exc).__name__})") from None
    numbers = forge.pulls_for_commit(project, sha)
    if not numbers:
        raise NotFoundError(f"no open pull request of {project} has head commit {sha[:12]}",
                            hint="run it from the workflow_run event of the pull request's run")
    warnings = []
    if len(numbers) > 1:
        warnings.append(f"{len(numbers)} open pull requests have head {sha[:12]}; commenting on #{numbers[0]}")
    if record.target is not None and (record.target.project, record.target.number) != (project, numbers[0]):
        warnings.append(f"the file names {record.target.project}#{record.target.number}; ignored, GitHub says "
                        f"{project}#{numbers[0]}")
    raw = comparison.head.key
    key = raw if KEY_RE.match(raw) else ""
    published = publish_run(forge, comparison, target=CommentTarget(project=project, number=numbers[0]),
                            key=key, options=options)
    if published.comment.action == "fallback":
        raise BackendError(f"could not post the comment to {project}#{numbers[0]}: {published.comment.reason}")
    return published, warnings


def post_comment(forge: Forge, target: CommentTarget | None, body: str, options: PublishOptions,
                 result: Comparison) -> CommentResult:
    if options.comment_mode == "off":
        return CommentResult(action="skipped", reason="comment-mode is off")
    if target is None:
        return CommentResult(action="skipped", reason="this run belongs to no pull request")
    wanted, why = should_comment(result, options.comment_on)
    if wanted:
        return forge.upsert_comment(target, body, comment_id=options.comment_id, mode=options.comment_mode)
    existing = forge.find_comment(target, comment_id=options.comment_id)
    if existing is None:
        return CommentResult(action="skipped", reason=f"comment-on is {options.comment_on} and {why}")
    # keep the comment already on the PR true, rather than leaving old numbers there
    return forge.upsert_comment(target, body, comment_id=options.comment_id, mode="update")


def should_comment(result: Comparison, comment_on: CommentOn) -> tuple[bool, str]:
    """Whether ``comment_on`` asks for a comment on this result, and if not, why not."""
    if comment_on == "always":
        return True, "always"
    gate_failed = any(g.status == "failed" for g in result.gates)
    if comment_on == "failures":
        tests = result.tests
        failing = ((tests.failed.after or 0) + (tests.errors.after or 0)) if tests is not None else 0
        return bool(failing or gate_failed), "no test fails and no gate failed"
    if comment_on == "regressions":
        return bool(gate_failed or regressions(result)), "nothing regressed against the baseline"
    if not result.has_baseline:
        return True, "no baseline"
    changed = any(section.has_changes() for _, section in result.sections())
    return bool(changed or gate_failed), "nothing changed against the baseline"


def regressions(c: Comparison) -> list[str]:
    """What got worse than the baseline: new failures, a coverage drop, new security findings."""
    if not c.has_baseline:
        return []
    out = []
    if c.tests is not None and c.tests.new_failures:
        out.append("new failures")
    change = c.coverage.line_rate.change if c.coverage is not None else None
    if change is not None and change < 0:
        out.append("coverage dropped")
    if c.security is not None and sum((c.security.new_by_severity or {}).values()) != 0:
        out.append("new security findings")
    return out


def save_comment(path: Path, target: CommentTarget, body: str, options: PublishOptions,
                 result: Comparison, reason: str | None) -> Path:
    from aqe_ci.publish.file import CommentFile, FileForge

    record = CommentFile(result=result.as_json(), comment_id=options.comment_id, mode=options.comment_mode,
                         title=options.title, max_rows=options.max_rows, head_sha=options.head_sha)
    FileForge(path, record=record, reason=reason).upsert_comment(target, body, comment_id=options.comment_id,
                                                                 mode=options.comment_mode)
    return path


def summary_markdown(result: Comparison, options: PublishOptions, comment: CommentResult,
                     fallback: Path | None) -> str:
    """The full report for the job summary (every row, cut to fit 1 MiB) and what became of the comment."""
    from aqe_ci.render.markdown import render_markdown

    budget = SUMMARY_BYTES
    text = ""
    for _ in range(4):  # the renderer budgets characters; the summary limit is bytes
        text = render_markdown(result, max_chars=budget, comment_id=options.comment_id, title=options.title,
                               max_rows=None)
        size = len(text.encode("utf-8"))
        if size <= SUMMARY_BYTES:
            break
        budget = max(2_000, int(budget * SUMMARY_BYTES / size * 0.97))
    return text + "\n" + comment_note(comment, fallback)


def comment_note(comment: CommentResult, fallback: Path | None) -> str:
    from aqe_ci.render.escape import md_text

    if comment.action == "fallback":
        text = f"> [!NOTE]\n> The PR comment could not be posted: {md_text(comment.reason or 'refused', limit=400)}."
        if fallback is not None:
            text += (f"\n> It was saved to {md_text(str(fallback), limit=200)}; a trusted `workflow_run` job "
                     "can post it with `aqe artifacts comment --from-file` (docs/troubleshooting.md#no-comment-on-a-fork-pr).")
        return text + "\n"
    if comment.url:
        return f"PR comment {comment.action}: {comment.url}\n"
    return ""


def annotations_for(result: Comparison) -> list[Annotation]:
    """Error annotations for new failures, and one per new security finding by its severity (without a
    baseline: every failure and finding of the run, not called "new")."""
    new = "New " if result.has_baseline else ""  # without a baseline every one is "new"
    out: list[Annotation] = []
    for t in (result.tests.new_failures if result.tests is not None else None) or ():
        out.append(Annotation(level="error", title=f"{new}{'failure' if new else 'Failure'}: {test_label(t)}"[:200],
                              message=str(t.get("message") or t.get("status") or "failed")[:2000],
                              file=t.get("file")))  # test items carry a file, no line
    for f in (result.security.new if result.security is not None else None) or ():
        sev = f.get("severity") or "info"
        out.append(Annotation(level=SECURITY_LEVEL.get(sev, "notice"),
                              title=f"{new or 'Security: '}{sev} finding: {f.get('rule_id') or 'unknown rule'}"[:200],
                              message=str(f.get("title") or f.get("rule_id") or "security finding")[:2000],
                              file=f.get("path"), line=f.get("line")))
    return out


def _num(v: float | int | None) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        text = f"{v:.2f}".rstrip("0").rstrip(".")
        return "0" if text in ("-0", "") else text
    return str(v)


def gate_status(gates: Sequence[GateResult]) -> str:
    if not gates:
        return "none"
    return "failed" if any(g.status == "failed" for g in gates) else "passed"


def outputs_for(result: Comparison, *, key: str, comment: CommentResult | None = None,
                report_file: str | None = None) -> dict[str, str]:
    """The step outputs of a compared run (action.yml documents each)."""
    base = result.baseline.run
    cov, tests, sec = result.coverage, result.tests, result.security
    failed = None
    if tests is not None:
        failed = (tests.failed.after or 0) + (tests.errors.after or 0)
    new_sec = sec.new_by_severity if sec is not None else None
    return {
        "key": key,
        "baseline-key": base.key if base is not None else "",
        "baseline-sha": (base.commit or "") if base is not None else "",
        "coverage": _num(cov.line_rate.after) if cov is not None else "",
        "coverage-change": _num(cov.line_rate.change) if cov is not None else "",
        "patch-coverage": _num(cov.patch.rate) if cov is not None and cov.patch is not None else "",
        "tests": _num(tests.total.after) if tests is not None else "",
        "failed": _num(failed),
        "new-failures": _num(len(tests.new_failures)) if tests is not None and tests.new_failures is not None else "",
        "fixed": _num(len(tests.fixed)) if tests is not None and tests.fixed is not None else "",
        "new-security": _num(sum(new_sec.values())) if new_sec is not None else "",
        "gates": gate_status(result.gates),
        "comment-id": (comment.comment_id or "") if comment else "",
        "comment-url": (comment.url or "") if comment else "",
        "report-file": report_file or "",
    }
