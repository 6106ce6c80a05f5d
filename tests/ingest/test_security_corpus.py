"""Golden tests of the security parsers over ../shared/corpus (read in place).

Every security input becomes a schema-valid document or a clear problem; every figure we produce is
cross-checked against numbers this test computes itself from the raw JSON.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from sec_support import CORPUS, SAMPLES, detecting, ingest, inventory, shift_lines

from aqe_ci.ingest.security.common import fingerprint
from aqe_ci.ingest.security.linehash import line_hashes

#: inventory format -> the parser format that must claim it (None: no security parser may)
EXPECTED_FORMAT = {
    "sarif": "sarif",
    "trivy-json": "trivy",
    "npm/pnpm-audit-json(v1)": "npm-audit-v1",
    "npm-audit-json(v2,npm7+)": "npm-audit-v2",
    "yarn1-audit-jsonl": "yarn-audit",
    "bandit-json": "bandit",
    "npm-audit-error-json": "npm-audit-error",
    # mislabelled in INVENTORY: both files are yarn 1 `auditSummary` lines (an audit with nothing
    # found), so they ARE yarn audit output and ingest as an empty, valid document.
    "github-graphql-vuln-json": "yarn-audit",
    # trivy k8s `summary-ids` output has only ID lists, no severities or targets: unsupported.
    "trivy-k8s-json": None,
}
SEVERITY_LEVELS = {"none": 0, "info": 1, "low": 2, "moderate": 3, "high": 4, "critical": 5}
OUR_RANK = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}
NPM_MAP = {"critical": "critical", "high": "high", "moderate": "medium", "low": "low", "info": "info"}


BROKEN_SARIF = "sarif-sdk/src/Test.UnitTests.Sarif/TestData/PrereleaseCompatibilityTransformer/Inputs/NestedFiles.sarif"


def _expected_format(entry: dict) -> str | None:
    fmt = entry["format"]
    if entry["path"] == BROKEN_SARIF:  # inventoried as json-like-unparsed: a SARIF 2.0 draft, invalid JSON
        return "sarif"
    if fmt == "yarn-berry-audit-json":
        path = CORPUS / entry["path"]
        if path.stat().st_size == 0:
            return None
        return "yarn-berry-audit" if "/yarn-4-" in entry["path"] else "npm-audit-v1"
    return EXPECTED_FORMAT.get(fmt)


def _entries(*formats: str) -> list[dict]:
    return [e for e in inventory() if e["format"] in formats]


SECURITY_ENTRIES = [e for e in inventory() if e["format"] in EXPECTED_FORMAT
                    or e["format"] == "yarn-berry-audit-json" or e["path"] == BROKEN_SARIF]


def _raw(entry_or_path) -> object:
    path = entry_or_path if isinstance(entry_or_path, Path) else CORPUS / entry_or_path["path"]
    return json.loads(path.read_text(encoding="utf-8-sig"))


def _folder_level(path: str) -> int | None:
    m = re.search(r"/(?:npm|pnpm|yarn-\d)-(none|low|moderate|high|critical)/", path)
    return SEVERITY_LEVELS[m.group(1)] if m else None


# ---------------------------------------------------------------------------------------------
# detection


def test_every_detector_claims_exactly_its_own_format() -> None:
    wrong = []
    for entry in inventory():
        path = CORPUS / entry["path"]
        if not path.is_file():
            continue
        claimed = detecting(path)
        want = _expected_format(entry) if entry in SECURITY_ENTRIES else None
        if claimed != ([want] if want else []):
            wrong.append((entry["path"], entry["format"], claimed, want))
    assert wrong == []


def test_samples_are_detected_by_their_parser_only() -> None:
    want = {"grype-image.json": ["grype"], "semgrep.json": ["semgrep"],
            "pip-audit-v2.json": ["pip-audit"], "pip-audit-v1.json": ["pip-audit"]}
    assert {name: detecting(SAMPLES / name) for name in want} == want


# ---------------------------------------------------------------------------------------------
# every input: a valid document or a clear problem


def _sarif_version(entry: dict) -> str | None:
    if entry["path"] == BROKEN_SARIF:
        return "2.0.0-csd.2.beta.2018-10-10"
    doc = _raw(entry)
    return doc.get("version") if isinstance(doc, dict) else None


@pytest.mark.parametrize("fmt", sorted({e["format"] for e in SECURITY_ENTRIES} - {"sarif"}))
def test_every_input_is_a_document_or_a_clear_problem(fmt: str, tmp_path: Path) -> None:
    """(SARIF inputs: test_every_sarif_input_is_a_document_with_its_results_or_a_clear_problem.)"""
    unexpected = []
    for entry in SECURITY_ENTRIES:
        if entry["format"] != fmt:
            continue
        path = CORPUS / entry["path"]
        want = _expected_format(entry)
        if want is None:
            assert detecting(path) == [], entry["path"]
            continue
        out = ingest([path], tmp_path)
        expect_problem = (
            (want == "sarif" and (_sarif_version(entry) != "2.1.0" or entry["path"].endswith("invalid-sarif.sarif")))
            or fmt == "npm-audit-error-json")
        if expect_problem:
            assert len(out.problems) == 1 and out.findings == [], entry["path"]
            reason = out.problems[0][1]
            assert "\n" not in reason and len(reason) < 400
        elif out.problems:
            unexpected.append((entry["path"], out.problems))
    assert unexpected == []


def test_broken_draft_sarif_is_refused(tmp_path: Path) -> None:
    out = ingest([CORPUS / BROKEN_SARIF], tmp_path)
    assert out.problems[0][1] == "SARIF version 2.0.0-csd.2.beta.2018-10-10 is not supported (only 2.1.0)"


def test_old_and_draft_sarif_versions_are_refused_by_name(tmp_path: Path) -> None:
    v1 = [e for e in _entries("sarif") if _sarif_version(e) == "1.0.0"][0]
    out = ingest([CORPUS / v1["path"]], tmp_path)
    assert out.problems[0][1] == "SARIF version 1.0.0 is not supported (only 2.1.0)"


def test_invalid_sarif_from_codeql_action_fails_with_the_json_path(tmp_path: Path) -> None:
    out = ingest([CORPUS / "codeql-action/src/testdata/invalid-sarif.sarif"], tmp_path)
    (_, reason, line), = out.problems
    assert reason == "$.runs[0].results must be an array" and line == 14


def test_npm_error_document_is_a_problem_not_an_empty_success(tmp_path: Path) -> None:
    out = ingest([CORPUS / "_generated-real-tools/npm-audit/npm10-audit-error-405.json"], tmp_path)
    (_, reason, _), = out.problems
    assert reason.startswith("npm audit failed and wrote an error instead of a report: 405 Method Not Allowed")
    assert out.findings == []


def test_codeql_with_invalid_uri_is_kept_as_written(tmp_path: Path) -> None:
    out = ingest([CORPUS / "codeql-action/src/testdata/with-invalid-uri.sarif"], tmp_path)
    (f,) = out.findings
    assert f["location"]["path"] == "not a valid URI" and f["url"] == "not a valid URI"


# ---------------------------------------------------------------------------------------------
# counts, cross-checked against figures computed here from the raw JSON


def _sarif_raw_results(doc: dict) -> tuple[int, int]:
    """(results that are findings, of which suppressed) per the SARIF spec, computed independently."""
    n = supp = 0
    for run in doc.get("runs") or []:
        for r in run.get("results") or []:
            if r.get("kind") in ("pass", "notApplicable") or r.get("baselineState") == "absent":
                continue
            n += 1
            if any(s.get("status", "accepted") == "accepted" for s in r.get("suppressions") or []):
                supp += 1
    return n, supp


def test_every_sarif_input_is_a_document_with_its_results_or_a_clear_problem(tmp_path: Path) -> None:
    checked = refused = 0
    for entry in _entries("sarif") + [e for e in inventory() if e["path"] == BROKEN_SARIF]:
        out = ingest([CORPUS / entry["path"]], tmp_path)
        version = _sarif_version(entry)
        if version != "2.1.0" or entry["path"].endswith("invalid-sarif.sarif"):
            assert len(out.problems) == 1 and out.findings == [], entry["path"]
            reason = out.problems[0][1]
            assert "\n" not in reason and len(reason) < 400
            if version != "2.1.0":
                assert reason == f"SARIF version {version} is not supported (only 2.1.0)"
            refused += 1
            continue
        assert out.problems == [], entry["path"]
        n, supp = _sarif_raw_results(_raw(entry))
        assert len(out.findings) + out.duplicates == n, entry["path"]
        summary = out.doc["data"]["summary"]
        assert summary["total"] + summary["suppressed"] == len(out.findings)
        if out.duplicates == 0:
            assert summary["suppressed"] == supp, entry["path"]
        checked += 1
    assert checked == 358 and refused == 74  # 72 other versions, invalid-sarif, the broken draft


def test_sarif_runs_and_files_merge_into_one_document(tmp_path: Path) -> None:
    a = CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.sarif"
    b = CORPUS / "trivy/integration/testdata/alpine-310.sarif.golden"
    out = ingest([a, b], tmp_path)
    total = _sarif_raw_results(_raw(a))[0] + _sarif_raw_results(_raw(b))[0]
    assert len(out.findings) + out.duplicates == total
    assert {t["name"] for t in out.doc["data"]["tools"]} == {"Bandit", "Trivy"}
    assert [s["format"] for s in out.doc["data"]["sources"]] == ["sarif", "sarif"]
    # the same file twice: one document, every finding once
    twice = ingest([a, a], tmp_path)
    assert len(twice.findings) == len(ingest([a], tmp_path).findings)
    assert twice.duplicates == len(twice.findings)


def test_sarif_severity_from_level_and_security_severity(tmp_path: Path) -> None:
    path = CORPUS / "trivy/integration/testdata/alpine-310.sarif.golden"
    raw = _raw(path)
    rules = {r["id"]: r for r in raw["runs"][0]["tool"]["driver"]["rules"]}
    out = ingest([path], tmp_path)
    for f in out.findings:
        score = float(rules[f["rule_id"]]["properties"]["security-severity"])
        want = ("critical" if score >= 9 else "high" if score >= 7 else "medium" if score >= 4
                else "low" if score > 0 else "info")
        assert f["severity"] == want and f["ids"] == [f["rule_id"]]
    bandit = ingest([CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.sarif"], tmp_path)
    level_map = {"error": "high", "warning": "medium", "note": "low", "none": "info"}
    raw_b = _raw(CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.sarif")
    assert Counter(f["severity"] for f in bandit.findings) == Counter(
        level_map[r.get("level", "warning")] for r in raw_b["runs"][0]["results"])


def _npm_v1_expected(doc: dict) -> Counter:
    keys = {}
    for adv in doc["advisories"].values():
        for f in adv["findings"]:
            keys[(adv.get("github_advisory_id") or adv["id"], adv["module_name"], f["version"])] = adv["severity"]
    return Counter(NPM_MAP[s] for s in keys.values())


def _counts(out) -> Counter:
    return Counter(f["severity"] for f in out.findings)


def _max_rank(counter: Counter) -> int:
    return max((OUR_RANK[s] for s, n in counter.items() if n), default=0)


def test_npm_v1_pnpm_and_yarn2_3_counts(tmp_path: Path) -> None:
    entries = _entries("npm/pnpm-audit-json(v1)") + [
        e for e in _entries("yarn-berry-audit-json") if _expected_format(e) == "npm-audit-v1"]
    assert len(entries) >= 25
    for entry in entries:
        raw = _raw(entry)
        out = ingest([CORPUS / entry["path"]], tmp_path)
        assert out.problems == []
        assert _counts(out) == _npm_v1_expected(raw), entry["path"]
        # npm 6 / pnpm count one per advisory *path*; we count one per advisory+package+version
        paths = sum(len(f["paths"]) for a in raw["advisories"].values() for f in a["findings"])
        assert sum(raw["metadata"]["vulnerabilities"].values()) in (paths, len(raw["advisories"]))
        level = _folder_level(entry["path"])
        if level is not None:
            assert _max_rank(_counts(out)) == (level if level != 3 else 3), entry["path"]


def test_npm_v2_counts_per_advisory_and_package(tmp_path: Path) -> None:
    entries = _entries("npm-audit-json(v2,npm7+)")
    assert len(entries) == 7
    for entry in entries:
        raw = _raw(entry)
        expected = {}
        for pkg in raw["vulnerabilities"].values():
            for via in pkg["via"]:
                if isinstance(via, dict):
                    expected[(via["source"], via["name"])] = via["severity"]
        out = ingest([CORPUS / entry["path"]], tmp_path)
        assert _counts(out) == Counter(NPM_MAP[s] for s in expected.values()), entry["path"]
        # npm's own metadata counts packages (dependents included): a cross-check of the raw shape
        assert raw["metadata"]["vulnerabilities"]["total"] == len(raw["vulnerabilities"])
        level = _folder_level(entry["path"])
        if level is not None:
            assert _max_rank(_counts(out)) == level
            top = max((SEVERITY_LEVELS[k] for k, v in raw["metadata"]["vulnerabilities"].items()
                       if k != "total" and v), default=0)
            assert top == level or (top == 0 and level == 0)


def test_npm_v1_and_v2_of_the_same_project_find_the_same_advisories(tmp_path: Path) -> None:
    for level in ("low", "moderate", "high", "critical"):
        v1 = ingest([CORPUS / f"audit-ci/test/npm-{level}/npm-output.json"], tmp_path)
        v2 = ingest([CORPUS / f"audit-ci/test/npm-{level}/npm7-output.json"], tmp_path)
        key = lambda f: (f["rule_id"], f["package"]["name"], f["severity"])  # noqa: E731
        assert sorted(map(key, v1.findings)) == sorted(map(key, v2.findings)), level


def test_yarn_classic_counts(tmp_path: Path) -> None:
    for entry in _entries("yarn1-audit-jsonl", "github-graphql-vuln-json"):
        lines = [json.loads(x) for x in (CORPUS / entry["path"]).read_text().splitlines() if x.strip()]
        advisories = [x["data"] for x in lines if x["type"] == "auditAdvisory"]
        summary = next(x["data"]["vulnerabilities"] for x in lines if x["type"] == "auditSummary")
        # yarn's summary counts one per advisory event (= per path)
        assert sum(summary.values()) == len(advisories)
        expected = {}
        for a in advisories:
            adv = a["advisory"]
            for f in adv["findings"]:
                if a["resolution"]["path"] in f["paths"]:
                    expected[(adv["github_advisory_id"], adv["module_name"], f["version"])] = adv["severity"]
        out = ingest([CORPUS / entry["path"]], tmp_path)
        assert out.problems == []
        assert _counts(out) == Counter(NPM_MAP[s] for s in expected.values()), entry["path"]
        level = _folder_level(entry["path"])
        if level is not None:
            assert _max_rank(_counts(out)) == level


def test_yarn_berry_4_counts(tmp_path: Path) -> None:
    for entry in _entries("yarn-berry-audit-json"):
        path = CORPUS / entry["path"]
        if _expected_format(entry) != "yarn-berry-audit":
            continue
        rows = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        expected = {(r["children"]["ID"], r["value"], v): r["children"]["Severity"]
                    for r in rows for v in r["children"]["Tree Versions"]}
        out = ingest([path], tmp_path)
        assert _counts(out) == Counter(NPM_MAP[s] for s in expected.values()), entry["path"]
        level = _folder_level(entry["path"])
        if level is not None:
            assert _max_rank(_counts(out)) == level


def test_empty_yarn4_output_is_not_claimed() -> None:
    assert detecting(CORPUS / "audit-ci/test/yarn-4-workspace-empty/output.json") == []


def test_bandit_counts_match_its_own_totals(tmp_path: Path) -> None:
    for entry in _entries("bandit-json"):
        raw = _raw(entry)
        totals = raw["metrics"]["_totals"]
        out = ingest([CORPUS / entry["path"]], tmp_path)
        assert out.duplicates == 0
        assert _counts(out) == Counter({"high": totals["SEVERITY.HIGH"], "medium": totals["SEVERITY.MEDIUM"],
                                        "low": totals["SEVERITY.LOW"], "info": totals["SEVERITY.UNDEFINED"]})
        conf = Counter(f["confidence"] for f in out.findings)
        for level in ("HIGH", "MEDIUM", "LOW"):
            assert conf[level] == totals[f"CONFIDENCE.{level}"]
        assert {t["name"]: t["version"] for t in out.doc["data"]["tools"]} == {"bandit": "1.9.4"}


def test_bandit_json_and_sarif_of_the_same_scan_agree(tmp_path: Path) -> None:
    j = ingest([CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.json"], tmp_path)
    s = ingest([CORPUS / "_generated-real-tools/bandit/bandit-cpython311-http-xml-urllib.sarif"], tmp_path)
    assert _counts(j) == _counts(s)
    norm = lambda p: p.removeprefix("file://")  # noqa: E731
    assert (sorted((f["rule_id"], norm(f["location"]["path"]), f["location"]["start_line"]) for f in j.findings)
            == sorted((f["rule_id"], f["location"]["path"], f["location"]["start_line"]) for f in s.findings))


def test_trivy_counts(tmp_path: Path) -> None:
    for entry in _entries("trivy-json"):
        raw = _raw(entry)
        sev = Counter()
        n = 0
        for r in raw.get("Results") or []:
            for v in r.get("Vulnerabilities") or []:
                n += 1
                sev[v["Severity"]] += 1
            for m in r.get("Misconfigurations") or []:
                if m["Status"] != "PASS":
                    n += 1
                    sev[m["Severity"]] += 1
            for s in r.get("Secrets") or []:
                n += 1
                sev[s["Severity"]] += 1
            n += sum(1 for m in r.get("ExperimentalModifiedFindings") or [] if m.get("Type") == "vulnerability")
        out = ingest([CORPUS / entry["path"]], tmp_path)
        assert out.problems == [], entry["path"]
        assert len(out.findings) + out.duplicates == n, entry["path"]
        if out.duplicates == 0:
            mapped = Counter()
            for k, v in sev.items():
                mapped[{"CRITICAL": "critical", "HIGH": "high", "MEDIUM": "medium", "LOW": "low"}.get(k, "info")] += v
            unsuppressed = Counter(f["severity"] for f in out.findings if not f.get("suppressed"))
            assert unsuppressed == mapped, entry["path"]


def test_trivy_secrets_never_copy_the_matched_text(tmp_path: Path) -> None:
    path = CORPUS / "trivy/integration/testdata/secrets.json.golden"
    out = ingest([path], tmp_path)
    text = json.dumps(out.doc)
    assert "AWS_ACCESS_KEY_ID" not in text and "ghp_" not in text and "****" not in text
    assert [(f["rule_id"], f["category"], f["location"]["start_line"]) for f in out.findings] == [
        ("aws-access-key-id", "secret", 3), ("mysecret", "secret", 7)]


def test_trivy_vex_suppressed_findings_are_kept_but_not_counted(tmp_path: Path) -> None:
    out = ingest([CORPUS / "trivy/integration/testdata/fixtures/convert/npm-with-suppressed.json.golden"], tmp_path)
    supp = [f for f in out.findings if f.get("suppressed")]
    assert [f["rule_id"] for f in supp] == ["CVE-2017-16137"]
    summary = out.doc["data"]["summary"]
    assert summary["suppressed"] == 1 and summary["total"] == len(out.findings) - 1


# ---------------------------------------------------------------------------------------------
# fingerprints


CODEQL = CORPUS / "codeql-action/src/testdata"
# the two source files the codeql-action fingerprint test hashes (github/codeql-action
# src/testdata/testFile1.js and testFile2.js; four lines each, recreated here as literals)
TEST_FILE1 = "var a = 0;\nvar b = 0;\nvar c = 0;\nvar d = 0;\n"
TEST_FILE2 = "var foo = 0;\nvar bar = 0;\nvar baz = 0;\nvar qux = 0;\n"


def test_codeql_line_hash_matches_the_expected_sarif_exactly() -> None:
    expected = _raw(CODEQL / "fingerprinting.expected.sarif")
    want = [r["partialFingerprints"]["primaryLocationLineHash"] for r in expected["runs"][0]["results"]]
    got = [line_hashes(TEST_FILE1)[1], line_hashes(TEST_FILE2)[2]]
    assert got == want


def test_expected_sarif_uses_partial_fingerprints(tmp_path: Path) -> None:
    out = ingest([CODEQL / "fingerprinting.expected.sarif"], tmp_path)
    raw = _raw(CODEQL / "fingerprinting.expected.sarif")
    # partial fingerprints are per file: the (normalised) location path is part of the identity
    want = [fingerprint("sarif-partial", "CodeQL command-line toolchain", r["ruleId"], f["location"]["path"],
                        "primaryLocationLineHash=" + r["partialFingerprints"]["primaryLocationLineHash"])
            for r, f in zip(raw["runs"][0]["results"], out.findings, strict=True)]
    assert out.fingerprints() == want
    assert {f["fingerprint_source"] for f in out.findings} == {"sarif-partial"}


def test_input_sarif_with_sources_computes_the_codeql_fingerprints(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "testFile1.js").write_text(TEST_FILE1)
    (src / "testFile2.js").write_text(TEST_FILE2)
    expected = ingest([CODEQL / "fingerprinting.expected.sarif"], tmp_path)
    computed = ingest([CODEQL / "fingerprinting.input.sarif"], tmp_path, source_root=src)
    assert computed.fingerprints() == expected.fingerprints()
    assert {f["fingerprint_source"] for f in computed.findings} == {"computed"}
    # without the sources (the default) our own fingerprint is used: different, but stable
    plain = ingest([CODEQL / "fingerprinting.input.sarif"], tmp_path)
    assert set(plain.fingerprints()).isdisjoint(expected.fingerprints())


@pytest.mark.parametrize("name", ["fingerprinting.input.sarif", "fingerprinting2.input.sarif",
                                  "fingerprinting.expected.sarif", "valid-sarif.sarif"])
def test_codeql_fingerprints_survive_a_line_shift(name: str, tmp_path: Path) -> None:
    raw = _raw(CODEQL / name)
    shifted = tmp_path / "shifted.sarif"
    shifted.write_text(json.dumps(shift_lines(raw, 17)))
    a = ingest([CODEQL / name], tmp_path)
    b = ingest([shifted], tmp_path)
    assert a.fingerprints() == b.fingerprints() and a.findings
    assert ([f["location"]["start_line"] + 17 for f in a.findings if f["location"]["start_line"]]
            == [f["location"]["start_line"] for f in b.findings if f["location"]["start_line"]])


def test_fingerprinting2_input_and_expected_agree(tmp_path: Path) -> None:
    a = ingest([CODEQL / "fingerprinting2.input.sarif"], tmp_path)
    b = ingest([CODEQL / "fingerprinting2.expected.sarif"], tmp_path)
    assert a.fingerprints() == b.fingerprints()


def test_snippet_fingerprints_survive_a_line_shift_on_real_sarif(tmp_path: Path) -> None:
    checked = 0
    for entry in _entries("sarif")[::3]:  # a third of the corpus keeps this test quick
        raw = _raw(entry)
        if raw.get("version") != "2.1.0" or entry["bytes"] > 300_000 or "invalid" in entry["path"]:
            continue
        results = [r for run in raw.get("runs") or [] for r in run.get("results") or []]
        if not any("startLine" in json.dumps(r) for r in results):
            continue
        shifted = tmp_path / "shifted.sarif"
        shifted.write_text(json.dumps(shift_lines(raw, 40)))
        a = ingest([CORPUS / entry["path"]], tmp_path)
        b = ingest([shifted], tmp_path)
        assert a.fingerprints() == b.fingerprints(), entry["path"]
        checked += 1
    assert checked > 40


def test_bandit_fingerprints_survive_a_line_shift(tmp_path: Path) -> None:
    path = CORPUS / "_generated-real-tools/bandit/bandit-junitparser-pycobertura.json"
    raw = _raw(path)
    for r in raw["results"]:
        r["line_number"] += 5
        r["line_range"] = [x + 5 for x in r["line_range"]]
        r["code"] = "\n".join(re.sub(r"^(\d+)", lambda m: str(int(m.group(1)) + 5), ln)
                              for ln in r["code"].split("\n"))
    shifted = tmp_path / "bandit.json"
    shifted.write_text(json.dumps(raw))
    a = ingest([path], tmp_path)
    b = ingest([shifted], tmp_path)
    assert a.fingerprints() == b.fingerprints()
    assert len(set(a.fingerprints())) == len(a.findings)
