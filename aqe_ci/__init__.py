"""aqe-artifacts: store, query and compare test results, coverage and security findings."""

__version__ = "0.1.0"
