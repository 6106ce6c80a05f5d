"""Every registered detector over every corpus input: each claims only its own formats.

The INVENTORY's sniffed ``format`` names map to our parser format names below. A parser whose
format is not in the map (a new parser registered by another helper) must be added here: the test
fails loudly rather than silently skipping it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from ingest_helpers import CORPUS, inventory  # type: ignore[import-not-found]

from aqe_ci.ingest import registry
from aqe_ci.ingest.base import HEAD_BYTES

#: our parser format → INVENTORY formats it may claim
CLAIMS: dict[str, set[str]] = {
    "junit": {"junit-xml"},
    "nunit2": {"nunit2-xml", "mstest-xml(legacy)"},
    "nunit3": {"nunit3-xml", "nunit-xml(fragment)"},
    "nunit": {"nunit2-xml", "nunit3-xml", "nunit-xml(fragment)", "mstest-xml(legacy)"},
    "xunit": {"xunit.net-xml"},
    "trx": {"trx"},
    "playwright-json": {"playwright-json"},
    # C/C++ test frameworks and TAP (no corpus samples but TAP: tests/ingest/samples/tests/)
    "boost-test": set(),
    "ctest": set(),
    "cppunit": set(),
    "qtestlib": set(),
    "check": set(),
    "unittest++": set(),
    "tap": {"tap"},
    # coverage (wt-ingest-cov)
    "cobertura": {"cobertura-xml"},
    "lcov": {"lcov"},
    "jacoco": {"jacoco-xml"},
    "coveragepy": {"coveragepy-json"},
    "coveragepy-json": {"coveragepy-json"},
    "istanbul": {"istanbul-coverage-final-json", "istanbul-json-summary"},
    "istanbul-final": {"istanbul-coverage-final-json"},
    "istanbul-coverage-final": {"istanbul-coverage-final-json"},
    "istanbul-summary": {"istanbul-json-summary"},
    "istanbul-coverage-summary": {"istanbul-json-summary"},
    "go-coverprofile": {"go-coverprofile"},
    "gocover": {"go-coverprofile"},
    # security (wt-ingest-sec)
    "sarif": {"sarif", "json-like-unparsed"},  # NestedFiles.sarif is SARIF the inventory could not parse
    "npm-audit": {"npm/pnpm-audit-json(v1)", "npm-audit-json(v2,npm7+)"},
    "npm-audit-v1": {"npm/pnpm-audit-json(v1)", "yarn-berry-audit-json"},  # yarn 2/3 write the npm v1 shape
    "npm-audit-error": {"npm-audit-error-json"},
    "npm-audit-v2": {"npm-audit-json(v2,npm7+)"},
    "yarn-audit": {"yarn1-audit-jsonl", "yarn-berry-audit-json", "github-graphql-vuln-json"},  # mislabelled yarn 1 lines
    "yarn-classic-audit": {"yarn1-audit-jsonl"},
    "yarn-berry-audit": {"yarn-berry-audit-json"},
    "trivy": {"trivy-json"},
    "bandit": {"bandit-json"},
    "pip-audit": {"pip-audit-json"},
    "grype": {"grype-json"},
    "semgrep": {"semgrep-json"},
}

#: inputs whose INVENTORY format is right but that are not reports a parser can accept
NEVER_CLAIMED_FORMATS = {"empty", "non-junit-xml(negative)", "attack-bait-file"}


def _inputs() -> list[dict[str, str]]:
    return sorted((e for e in inventory() if e["role"] in ("input", "expected/golden", "derived")),
                  key=lambda e: e["path"])


def _head(rel: str) -> bytes:
    with open(CORPUS / rel, "rb") as f:
        return f.read(HEAD_BYTES)


def test_every_parser_is_mapped() -> None:
    unknown = [c.format for c in registry.parser_classes() if c.format not in CLAIMS]
    assert not unknown, f"add these parser formats to CLAIMS: {unknown}"


def test_detectors_claim_only_their_own_formats() -> None:
    wrong: list[str] = []
    for e in _inputs():
        path = CORPUS / e["path"]
        if not path.is_file():
            continue
        head = _head(e["path"])
        for cls in registry.parser_classes():
            try:
                claimed = cls.detect(head)
            except Exception as exc:  # a detector must never raise
                wrong.append(f"{cls.format} raised {type(exc).__name__} on {e['path']}")
                continue
            allowed = CLAIMS.get(cls.format, set())
            if claimed and (e["format"] not in allowed or e["format"] in NEVER_CLAIMED_FORMATS):
                wrong.append(f"{cls.format} claims {e['path']} ({e['format']})")
    assert not wrong, "\n".join(wrong)


#: inventory labels that mix formats: a parser may claim some of their files, not all
MIXED_LABELS = {"json-like-unparsed"}


@pytest.mark.parametrize("fmt", sorted({f for fs in CLAIMS.values() for f in fs} - MIXED_LABELS))
def test_each_registered_format_claims_its_inputs(fmt: str) -> None:
    owners = [c for c in registry.parser_classes() if fmt in CLAIMS.get(c.format, set())]
    assert owners, f"no registered parser claims {fmt}"
    missed = []
    for e in _inputs():
        if e["format"] != fmt or e["role"] != "input" or not (CORPUS / e["path"]).is_file():
            continue
        if (CORPUS / e["path"]).stat().st_size == 0:
            continue  # an empty file is no report of any format (yarn-4-workspace-empty/output.json)
        head = _head(e["path"])
        if not any(c.detect(head) for c in owners):
            missed.append(e["path"])
    assert not missed, f"{fmt}: not detected: {missed}"


def test_negative_and_garbage_samples_claimed_by_none(tmp_path: Path) -> None:
    samples = [b"", b"\x00\x01\x02" * 100, b"hello world\n", b"{}", b"[]", b"<html><body/></html>",
               b'<?xml version="1.0"?><suites><suite/></suites>', b"\xef\xbb\xbf   "]
    for e in inventory():
        if e["format"] in NEVER_CLAIMED_FORMATS and (CORPUS / e["path"]).is_file():
            samples.append(_head(e["path"]))
    for head in samples:
        claimed = [c.format for c in registry.parser_classes() if c.detect(head)]
        assert claimed == [], (head[:60], claimed)
