"""Security report parsers: SARIF, npm/pnpm/yarn audit, Trivy, Bandit, pip-audit, Grype, Semgrep.

Every parser streams its input into :class:`aqe_ci.ingest.security.writer.SecurityWriter`; the
severity mapping of each tool and the fingerprint rules are in docs/formats/security.md.
"""
