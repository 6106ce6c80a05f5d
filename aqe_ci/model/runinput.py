"""What a user says about a run on the command line: branch names, PR numbers, user metadata.

These values end up in manifests, index names, comments and terminal output, so they are checked
once, here, before anything runs or is stored: no newlines, no control characters (C0, DEL, C1)
and no bidirectional-override characters (U+202A-U+202E, U+2066-U+2069), which make text read
differently than it is. Errors are :class:`UsageError` (exit 2) naming the option.

``--metadata`` may also carry the run's ``branch`` and ``pr`` (the guide's GitHub example passes
``{"branch": "${{ github.ref_name }}", "pr": "${{ github.event.number }}"}``); they fill the run's
context when no flag and no CI variable gave them. An empty ``"pr": ""`` (a push event) means none.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from aqe_ci.errors import UsageError
from aqe_ci.model.context import CiContext

#: C0 controls (newlines and tabs included), DEL, C1 controls, line/paragraph separators and the
#: bidirectional embedding/override/isolate characters
UNSAFE_CHARS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
TEXT_MAX = 1024
METADATA_MAX_BYTES = 64 * 1024
#: context fields ``--metadata`` may fill, and the flag that overrides each
METADATA_CONTEXT = {"branch": "--branch", "pr": "--pr"}


def _describe(ch: str) -> str:
    names = {"\n": "a newline", "\r": "a carriage return", "\t": "a tab"}
    if ch in names:
        return names[ch]
    kind = "bidirectional-override" if "\u202a" <= ch <= "\u202e" or "\u2066" <= ch <= "\u2069" else "control"
    return f"the {kind} character U+{ord(ch):04X}"


def check_text(value: str, what: str) -> str:
    """``value`` unchanged, or UsageError when it has a newline / control / bidi character or is too long."""
    bad = UNSAFE_CHARS.search(value)
    if bad:
        raise UsageError(f"{what} contains {_describe(bad.group())} at position {bad.start() + 1}",
                         hint="pass it on one line without control or bidirectional-override characters")
    if len(value) > TEXT_MAX:
        raise UsageError(f"{what} is {len(value)} characters long", hint=f"at most {TEXT_MAX} are allowed")
    return value


def check_branch(value: str | None, what: str = "--branch") -> str | None:
    """A branch name as given on the command line (None passes)."""
    if value is None:
        return None
    if not value.strip():
        raise UsageError(f"{what} is empty", hint="name the branch, e.g. --branch main")
    return check_text(value, what)


def _check_node(node: Any, path: str) -> None:
    if isinstance(node, str):
        check_text(node, f"--metadata {path}")
    elif isinstance(node, Mapping):
        for k, v in node.items():
            check_text(str(k), f"--metadata key {path}.{k!r}"[:200])
            _check_node(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            _check_node(v, f"{path}[{i}]")


def parse_metadata(text: str | None) -> dict[str, Any]:
    """``--metadata JSON``: a JSON object whose strings (keys and values, at any depth) are one-line text."""
    if not text:
        return {}
    if len(text.encode("utf-8", "surrogatepass")) > METADATA_MAX_BYTES:
        raise UsageError(f"--metadata is larger than {METADATA_MAX_BYTES // 1024} KiB",
                         hint="keep user metadata small; store large data as a document")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--metadata is not valid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise UsageError("--metadata must be a JSON object", hint='e.g. --metadata \'{"suite": "unit"}\'')
    _check_node(value, "$")
    metadata_context(value)  # a bad branch / pr fails now, before anything runs
    return value


def metadata_context(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The ``branch`` and ``pr`` that ``metadata`` gives (only those present and not empty)."""
    out: dict[str, Any] = {}
    branch = metadata.get("branch")
    if branch is not None and branch != "":
        if not isinstance(branch, str):
            raise UsageError(f"--metadata $.branch must be a string, got {type(branch).__name__}")
        out["branch"] = check_branch(branch, "--metadata $.branch")
    pr = metadata.get("pr")
    if pr is not None and pr != "":
        out["pr"] = _pr_number(pr)
    return out


def _pr_number(value: Any) -> int:
    text = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not text.isdigit() or not text.isascii() or int(text) < 1:
        raise UsageError(f"--metadata $.pr must be a pull/merge request number, got {json.dumps(value)[:40]}",
                         hint='use a positive integer, or "" for none (a push event)')
    return int(text)


#: context flags holding free text (checked as text); branch-like ones also must not be empty
_BRANCH_FLAGS = {"branch": "--branch", "base_branch": "--base-branch"}


def check_context_flags(flags: Mapping[str, Any]) -> dict[str, Any]:
    """The context override flags (``branch``, ``base_branch``, ``commit``, ...) with their text checked."""
    out: dict[str, Any] = {}
    for name, value in flags.items():
        if isinstance(value, str):
            what = _BRANCH_FLAGS.get(name) or "--" + name.replace("_", "-")
            value = check_branch(value, what) if name in _BRANCH_FLAGS else check_text(value, what)
        out[name] = value
    return out


def with_metadata(ctx: CiContext, metadata: Mapping[str, Any]) -> CiContext:
    """``ctx`` with the branch / PR that ``metadata`` names, where no flag and no CI variable set them.

    A value the local git checkout guessed (platform ``git``) gives way to the user's metadata.
    """
    changes: dict[str, Any] = {}
    sources = dict(ctx.sources)
    for field, value in metadata_context(metadata).items():
        current, source = getattr(ctx, field), ctx.sources.get(field, "")
        if current is None or source.startswith("git "):
            changes[field] = value
            sources[field] = f"--metadata $.{field}"
    return ctx.replace(**changes, sources=sources) if changes else ctx
