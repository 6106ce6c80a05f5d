"""UTF-16 and UTF-32 reports (Windows and .NET tools write them): detected through a transcoded head,
transcoded while they are read (every XML and JSON reader, both JUnit paths, the three Cobertura
readers), line numbers kept, memory bounded by a chunk."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from ingest_helpers import CORPUS, TIMESTAMP  # type: ignore[import-not-found]
from junit_paths import both_paths  # type: ignore[import-not-found]  # noqa: F401 - a fixture

from aqe_ci.ingest.driver import ingest_files
from aqe_ci.ingest.stream import encoding
from aqe_ci.ingest.stream.encoding import Transcoder, sniff, utf8_head

JUNIT = CORPUS / "junitparser/tests/data/normal.xml"
NUNIT = CORPUS / "publish-unit-test-result-action/python/test/files/nunit/nunit3/jenkins/NUnit-correct.xml"
TRX = CORPUS / "test-reporter/__tests__/fixtures/dotnet-trx.trx"
COBERTURA = CORPUS / "_generated-real-tools/coveragepy/run_a.cobertura.xml"
SARIF = CORPUS / "codeql-action/src/testdata/fingerprinting.expected.sarif"
CODECS = [("utf-16", True), ("utf-16-le", False), ("utf-16-be", False), ("utf-32", True), ("utf-32-be", False)]


def _data(path: Path, tmp_path: Path) -> dict[str, Any]:
    result = ingest_files([path], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    try:
        assert not result.problems, [p.one_line() for p in result.problems]
        (doc,) = result.documents.values()
        data = json.loads(doc.path.read_text(encoding="utf-8"))["data"]
        for s in data["sources"]:
            s.pop("sha256"), s.pop("bytes"), s.pop("file")
        return data  # type: ignore[no-any-return]
    finally:
        result.cleanup()


def _widen(path: Path, codec: str, tmp_path: Path) -> Path:
    text = path.read_text(encoding="utf-8")
    text = text.replace('encoding="UTF-8"', 'encoding="UTF-16"').replace("encoding='UTF-8'", "encoding='UTF-16'")
    out = tmp_path / f"{path.stem}.{codec}{path.suffix}"
    out.write_bytes(text.encode(codec))
    return out


@pytest.mark.usefixtures("both_paths")
@pytest.mark.parametrize("codec,bom", CODECS)
@pytest.mark.parametrize("report", [JUNIT, NUNIT, TRX, COBERTURA, SARIF], ids=lambda p: p.suffix + ":" + p.stem)
def test_a_wide_report_reads_like_its_utf8_original(report: Path, codec: str, bom: bool, tmp_path: Path) -> None:
    assert report.is_file(), report
    wide = _widen(report, codec, tmp_path)
    assert (sniff(wide.read_bytes()[:4]) is not None)
    assert _data(wide, tmp_path / "wide") == _data(report, tmp_path / "narrow")


def test_a_declared_encoding_without_bom_is_read(tmp_path: Path) -> None:
    report = tmp_path / "junit.xml"
    report.write_bytes('<?xml version="1.0" encoding="UTF-16"?>\r\n<testsuite name="s">\r\n<testcase name="é"/>'
                       "</testsuite>".encode("utf-16-le"))
    assert sniff(report.read_bytes()) == ("utf-16-le", 0)
    assert [t["name"] for t in _data(report, tmp_path)["tests"]] == ["é"]


def test_line_numbers_of_errors_are_the_files(tmp_path: Path) -> None:
    report = tmp_path / "broken.xml"
    report.write_bytes('<?xml version="1.0" encoding="UTF-16"?>\n<testsuite name="s">\n\n<testcase name="a">'
                       "\n</testsuite>".encode("utf-16"))
    result = ingest_files([report], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    (problem,) = result.problems
    assert problem.line == 5 and problem.reason.startswith("malformed XML: mismatched tag")


def test_an_odd_number_of_utf16_bytes_is_a_clear_problem(tmp_path: Path) -> None:
    report = tmp_path / "cut.xml"
    report.write_bytes(b"\xff\xfe" + '<testsuite name="s"/>'.encode("utf-16-le") + b"\x00")
    result = ingest_files([report], workdir=tmp_path / "w", timestamp=TIMESTAMP)
    (problem,) = result.problems
    assert problem.reason == "not valid UTF-16-LE text (truncated data)"


def test_powershell_json_in_utf16_is_read(tmp_path: Path) -> None:
    """``trivy image -f json app > trivy.json`` in Windows PowerShell 5 writes UTF-16 LE with a BOM."""
    doc = {"SchemaVersion": 2, "ArtifactName": "app:1.0", "ArtifactType": "container_image",
           "Results": [{"Target": "app", "Vulnerabilities": [{"VulnerabilityID": "CVE-2024-1", "PkgName": "p",
                                                              "InstalledVersion": "1", "Severity": "HIGH"}]}]}
    report = tmp_path / "trivy.json"
    report.write_bytes(json.dumps(doc, indent=2).encode("utf-16"))
    assert _data(report, tmp_path)["summary"]["high"] == 1


def test_the_head_is_transcoded_for_detection() -> None:
    head = '<?xml version="1.0" encoding="UTF-16"?><testsuites>'.encode("utf-16")
    assert utf8_head(head) == b'<?xml version="1.0" encoding="UTF-8"?><testsuites>'
    assert utf8_head(b"<a/>") == b"<a/>"


def test_the_transcoder_holds_one_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """30 MB of UTF-16 read in 64 KiB pieces: the transcoder never holds more than about a chunk."""
    monkeypatch.setattr(encoding, "CHUNK", 1 << 16)
    body = ("<testcase name='t'/>\n" * 700_000).encode("utf-16-le")
    t = Transcoder(io.BytesIO(body), "utf-16-le", 0)
    peak = total = 0
    buf = bytearray(1 << 16)
    while n := t.readinto(buf):
        total += n
        peak = max(peak, len(t._out))
    assert total == len(body) // 2
    assert peak <= 3 * (1 << 16)
