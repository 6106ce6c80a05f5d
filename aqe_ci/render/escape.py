"""Escaping untrusted text (test names, messages, paths, finding titles) for GitHub-flavoured markdown.

The text ends up inert: no HTML (``<``, ``>``, ``&`` become entities), no markdown syntax (every
ASCII punctuation character markdown gives meaning to is backslash-escaped, which CommonMark allows
for any ASCII punctuation), no table breakage (``|`` escaped, newlines folded), no notifications
(``@name`` gets a zero-width joiner after the ``@``) and no control characters.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"
_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-.!|~=:\"'$^])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
_NEWLINES = re.compile(r"\s*[\r\n]+\s*")
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"(\\#)(?=\d)")


def md_text(text: object, *, limit: int | None = 300) -> str:
    """Untrusted text → one line of inert markdown, safe inside a table cell."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", s)
    s = _NEWLINES.sub(" ⏎ ", s).strip()
    if limit is not None and len(s) > limit:
        s = s[:limit].rstrip() + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    s = _MENTION.sub("@" + ZWJ, s)
    s = _ISSUE_REF.sub(r"\1" + ZWJ, s)  # "#123" would link an issue
    return s


_TERM_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def term_text(text: object, *, limit: int | None = 200) -> str:
    """Untrusted text → one inert line for a terminal or CI log: no escape sequences, control or bidi
    characters (a branch name cannot move the cursor or recolour the log), newlines folded."""
    s = "" if text is None else str(text)
    s = _NEWLINES.sub(" ⏎ ", s)
    s = _TERM_CONTROL.sub("", s).strip()
    if limit is not None and len(s) > limit:
        s = s[: limit - 1] + "…"
    return s
