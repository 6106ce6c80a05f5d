"""Docs stay true to the code: every registered format is documented, every command has docs."""

from __future__ import annotations

from pathlib import Path

from aqe_ci.ingest import registry

ROOT = Path(__file__).resolve().parents[1]


def test_formats_doc_lists_every_registered_format() -> None:
    text = (ROOT / "docs" / "formats.md").read_text()
    missing = [c.format for c in registry.parser_classes() if f"| `{c.format}` | {c.doc_type} |" not in text]
    assert not missing, f"docs/formats.md does not list: {missing}"


def test_readme_links_exist() -> None:
    import re

    readme = (ROOT / "README.md").read_text()
    for link in re.findall(r"\]\((docs/[^)#]+)\)", readme):
        assert (ROOT / link).is_file(), link
