"""Coverage report parsers: Cobertura, LCOV, JaCoCo, coverage.py JSON, Istanbul, Go coverprofile.

Each streams into :class:`aqe_ci.ingest.coverage.writer.CoverageWriter`; the mapping of every
format is documented in docs/formats/coverage.md.
"""
