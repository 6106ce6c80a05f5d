"""Which parsers and writers exist. One line each, imported lazily by dotted path."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from aqe_ci.ingest.base import DocumentWriter, ReportParser

#: "module:Class" of every ReportParser (ingest helpers add their lines here)
PARSERS: tuple[str, ...] = (
    "aqe_ci.ingest.tests.junit:JUnitParser",
    "aqe_ci.ingest.tests.dotnet:NUnitParser",
    "aqe_ci.ingest.tests.dotnet:XUnitParser",
    "aqe_ci.ingest.tests.dotnet:TrxParser",
    "aqe_ci.ingest.coverage.cobertura:CoberturaParser",
    "aqe_ci.ingest.coverage.lcov:LcovParser",
    "aqe_ci.ingest.coverage.jacoco:JacocoParser",
    "aqe_ci.ingest.coverage.coveragepy_json:CoveragePyJsonParser",
    "aqe_ci.ingest.coverage.istanbul:IstanbulFinalParser",
    "aqe_ci.ingest.coverage.istanbul:IstanbulSummaryParser",
    "aqe_ci.ingest.coverage.gocover:GoCoverParser",
    "aqe_ci.ingest.security.sarif:SarifParser",
    "aqe_ci.ingest.security.npm_audit:NpmAuditErrorParser",
    "aqe_ci.ingest.security.npm_audit:NpmAuditV1Parser",
    "aqe_ci.ingest.security.npm_audit:NpmAuditV2Parser",
    "aqe_ci.ingest.security.npm_audit:YarnClassicAuditParser",
    "aqe_ci.ingest.security.npm_audit:YarnBerryAuditParser",
    "aqe_ci.ingest.security.trivy:TrivyParser",
    "aqe_ci.ingest.security.bandit:BanditParser",
    "aqe_ci.ingest.security.pip_audit:PipAuditParser",
    "aqe_ci.ingest.security.grype:GrypeParser",
    "aqe_ci.ingest.security.semgrep:SemgrepParser",
    "aqe_ci.ingest.tests.playwright:PlaywrightJsonParser",
    "aqe_ci.ingest.tests.boost:BoostTestParser",
    "aqe_ci.ingest.tests.ctest:CTestParser",
    "aqe_ci.ingest.tests.cppunit:CppUnitParser",
    "aqe_ci.ingest.tests.qtest:QTestParser",
    "aqe_ci.ingest.tests.check:CheckParser",
    "aqe_ci.ingest.tests.unittestpp:UnitTestPPParser",
    "aqe_ci.ingest.tests.tap:TapParser",
)

#: the DocumentWriter for each document type
WRITERS: dict[str, str] = {
    "test_results": "aqe_ci.ingest.tests.writer:TestResultsWriter",
    "coverage": "aqe_ci.ingest.coverage.writer:CoverageWriter",
    "security": "aqe_ci.ingest.security.writer:SecurityWriter",
}


def _load(ref: str) -> object:
    module, _, attr = ref.partition(":")
    return getattr(import_module(module), attr)


def _parser_class(ref: str) -> type[ReportParser]:
    cls = _load(ref)
    if isinstance(cls, type) and issubclass(cls, ReportParser):
        return cls
    raise TypeError(f"{ref} is not a ReportParser")


@cache
def parser_classes() -> tuple[type[ReportParser], ...]:
    classes = [_parser_class(ref) for ref in PARSERS]
    return tuple(sorted(classes, key=lambda c: c.priority))


def writer_class(doc_type: str) -> type[DocumentWriter]:
    cls = _load(WRITERS[doc_type])
    if isinstance(cls, type) and issubclass(cls, DocumentWriter):
        return cls
    raise TypeError(f"{WRITERS[doc_type]} is not a DocumentWriter")


def by_format(name: str) -> type[ReportParser] | None:
    for cls in parser_classes():
        if cls.format == name:
            return cls
    return None


def detect(head: bytes) -> list[type[ReportParser]]:
    """Every parser class that claims ``head``, best first."""
    return [cls for cls in parser_classes() if cls.detect(head)]
