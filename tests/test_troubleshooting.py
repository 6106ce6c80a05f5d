"""docs/troubleshooting.md covers the symptoms users meet, and every pointer at a docs section exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
GUIDE = DOCS / "troubleshooting.md"

#: the symptoms the guide must answer (issue: badges, webhooks, API and troubleshooting)
REQUIRED = ["no-comment-on-a-fork-pr", "wrong-baseline", "document-already-exists", "s3-accessdenied",
            "s3-wrong-region", "s3-slowdown", "conditional-write-fallback-warning", "artifacts-expired",
            "gitlab-note-403", "a-webhook-is-not-delivered"]
_DOC_LINK = re.compile(r"docs/([\w./-]+\.md)#([\w-]+)")
_MD_LINK = re.compile(r"\]\((?!https?:)([\w./-]*\.md)?#([\w-]+)\)")


def slug(heading: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped (but - and _), spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    text = re.sub(r"```.*?```", "", path.read_text(encoding="utf-8"), flags=re.S)
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.+?)\s*#*$", text, re.M)}


def test_slug_follows_github() -> None:
    assert slug("S3 AccessDenied") == "s3-accessdenied"
    assert slug("Conditional-write fallback warning") == "conditional-write-fallback-warning"
    assert slug("GitLab note 403") == "gitlab-note-403"


def test_every_required_symptom_has_a_section() -> None:
    missing = [a for a in REQUIRED if a not in anchors(GUIDE)]
    assert not missing, f"docs/troubleshooting.md lacks sections {missing}"


def test_every_section_says_what_to_do() -> None:
    text = GUIDE.read_text(encoding="utf-8")
    for section in re.split(r"^## ", text, flags=re.M)[1:]:
        title = section.splitlines()[0]
        assert "**Fix:**" in section, f"section {title!r} has no fix"
        assert "**You see:**" in section, f"section {title!r} does not name the symptom"


def test_every_docs_pointer_in_the_code_resolves() -> None:
    pointers = []
    for path in (ROOT / "aqe_ci").rglob("*.py"):
        for m in _DOC_LINK.finditer(path.read_text(encoding="utf-8")):
            pointers.append((path.relative_to(ROOT), m.group(1), m.group(2)))
    assert any(doc == "troubleshooting.md" for _, doc, _ in pointers), "no error hint points at the guide"
    broken = [p for p in pointers if not (DOCS / p[1]).is_file() or p[2] not in anchors(DOCS / p[1])]
    assert not broken, f"hints point at sections that do not exist: {broken}"


def test_every_anchor_link_between_docs_resolves() -> None:
    broken = []
    for path in list(DOCS.rglob("*.md")) + [ROOT / "README.md"]:
        for m in _MD_LINK.finditer(path.read_text(encoding="utf-8")):
            target = (path.parent / m.group(1)).resolve() if m.group(1) else path
            if not target.is_file() or m.group(2) not in anchors(target):
                broken.append((str(path.relative_to(ROOT)), m.group(1), m.group(2)))
    assert not broken, f"links to missing sections: {broken}"
