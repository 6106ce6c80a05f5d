"""Escaping untrusted text (test names, messages, paths, finding titles) for markdown and terminals.

:func:`md_text` is for GitHub-flavoured markdown; :func:`term_text` / :func:`term_lines` for terminal
and CI-log output (every table goes through :func:`term_text`). Both remove the same control and
bidirectional-override characters and fold line breaks the same way.

In markdown the text ends up inert: no HTML (``<``, ``>``, ``&`` become entities), no markdown syntax (every
ASCII punctuation character markdown gives meaning to is backslash-escaped, which CommonMark allows
for any ASCII punctuation), no table breakage (``|`` escaped, newlines folded), no notifications
(``@name`` gets a zero-width joiner after the ``@``) and no control characters.
"""

from __future__ import annotations

import re

ZWJ = "\u200d"
_SPECIAL = re.compile(r"([\\`*_\[\]{}()#+\-.!|~=:\"'$^])")
#: removed from untrusted text everywhere: C0 controls but tab and line breaks, DEL, C1 controls but NEL,
#: and the bidirectional embedding / override / isolate characters (U+202A-U+202E, U+2066-U+2069)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069]")
#: line breaks (CR, LF, NEL, U+2028, U+2029) fold to one visible marker, so text stays on its line
_NEWLINES = re.compile(r"\s*[\r\n\x85\u2028\u2029]+\s*")
NEWLINE_MARK = " ⏎ "
_MENTION = re.compile(r"@(?=[A-Za-z0-9])")
_ISSUE_REF = re.compile(r"(\\#)(?=\d)")


def md_text(text: object, *, limit: int | None = 300) -> str:
    """Untrusted text → one line of inert markdown, safe inside a table cell."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", s)
    s = _NEWLINES.sub(NEWLINE_MARK, s).strip()
    if limit is not None and len(s) > limit:
        s = s[:limit].rstrip() + "…"
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _SPECIAL.sub(r"\\\1", s)
    s = _MENTION.sub("@" + ZWJ, s)
    s = _ISSUE_REF.sub(r"\1" + ZWJ, s)  # "#123" would link an issue
    return s


def term_text(text: object, *, limit: int | None = None) -> str:
    """Untrusted text → one inert line for a terminal or CI log: no escape sequences, no bidi reordering,
    no line breaks (folded to ``⏎``), tabs as spaces."""
    s = "" if text is None else str(text)
    s = _CONTROL.sub("", s)
    s = _NEWLINES.sub(NEWLINE_MARK, s).replace("\t", " ")
    if limit is not None and len(s) > limit:
        s = s[: limit - 1].rstrip() + "…"
    return s


_LINE_BREAKS = re.compile(r"\r\n?|[\x85\u2028\u2029]")


def term_lines(text: str) -> str:
    """Text of several lines made inert for a terminal: the line structure is kept (every line break
    becomes ``\\n``); whatever moves the cursor, changes colours or reorders text is removed."""
    return _CONTROL.sub("", _LINE_BREAKS.sub("\n", text))


#: characters that JSON text may carry raw inside strings but a terminal would act on
_JSON_RAW = re.compile(r"[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def json_inert(text: str) -> str:
    """JSON text with DEL, C1, line-separator and bidi characters written as ``\\uXXXX`` escapes.

    Lossless: those characters can only occur inside JSON strings, where the escape means the same."""
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
