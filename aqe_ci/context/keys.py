"""The default run key: one per CI job attempt, valid for ``storage.keys.check_key``.

================  ==============================================  ===========================
platform          key                                             unique because
================  ==============================================  ===========================
github            ``gh-<run_id>-<run_attempt>-<job>``             run id + attempt + job id
gitlab            ``gl-<job_id>``                                 CI_JOB_ID is new per retry
buildkite         ``buildkite-<job_id>``                          BUILDKITE_JOB_ID, new per retry
azure             ``azure-<run_id>-<run_attempt>-<job>``          build id + job attempt + job
bitbucket         ``bitbucket-<run_id>-<step uuid>``              build number + step
circleci          ``circleci-<build_num>``                        CIRCLE_BUILD_NUM is per job
jenkins           ``jenkins-<job>-<build_number>``                BUILD_NUMBER is per job
local checkout    ``local-<sha12>-<YYYYMMDDHHMMSS>``              commit + second (UTC)
nothing known     ``run-<YYYYMMDDHHMMSS>-<random4>``              second (UTC) + 16 random bits
================  ==============================================  ===========================

GitHub matrix legs share ``GITHUB_JOB`` and so share a key: give each leg its own ``--part``.
Components are sanitized (anything outside ``A-Za-z0-9._-`` becomes ``-``, runs collapse, ``..``
becomes ``.``); a key over 128 characters is cut and ends with 8 hex digits of the full key's
sha256, so two long keys stay distinct.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import UTC, datetime

from aqe_ci.model.context import CiContext
from aqe_ci.model.keys import check_key

KEY_MAX = 128
PREFIX = {"github": "gh", "gitlab": "gl"}


def sanitize(component: str) -> str:
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", component)
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"-{2,}", "-", text)
    return text.strip("-.")


def join_key(*components: str | None) -> str:
    parts = [p for p in (sanitize(c) for c in components if c) if p]
    key = "-".join(parts)
    key = re.sub(r"-{2,}", "-", key)
    if len(key) > KEY_MAX:
        digest = hashlib.sha256(key.encode()).hexdigest()[:8]
        key = key[:KEY_MAX - 9].rstrip("-.") + "-" + digest
    return check_key(key)


def default_key(ctx: CiContext, now: datetime) -> str:
    """The run key used when ``--artifact-key`` is not given (see the module docstring)."""
    stamp = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(UTC).strftime("%Y%m%d%H%M%S")
    platform = ctx.platform
    if platform == "github" and ctx.run_id:
        return join_key("gh", ctx.run_id, ctx.run_attempt or "1", ctx.job)
    if platform in ("gitlab", "buildkite") and ctx.job_id:
        return join_key(PREFIX.get(platform, platform), ctx.job_id)
    if platform == "gitlab" and ctx.run_id:
        return join_key("gl", ctx.run_id, ctx.job)
    if platform == "azure" and ctx.run_id:
        return join_key("azure", ctx.run_id, ctx.run_attempt or "1", ctx.job)
    if platform == "bitbucket" and ctx.run_id:
        return join_key("bitbucket", ctx.run_id, ctx.job_id)
    if platform == "jenkins" and ctx.run_id:
        return join_key("jenkins", ctx.job, ctx.run_id)
    if platform not in (None, "git") and ctx.run_id:
        return join_key(platform, ctx.run_id, ctx.run_attempt)
    if ctx.commit:
        return join_key("local", ctx.commit[:12], stamp)
    return join_key("run", stamp, secrets.token_hex(2))
