#!/usr/bin/env bash
# Regenerates examples/reports/{base,pr}/ by running the real tools on the two versions of the
# sample project: pytest (JUnit XML), coverage.py via pytest-cov (Cobertura XML) and bandit (JSON).
# Needs: pip install pytest pytest-cov bandit. The demo uses the committed reports as they are.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../reports"
for v in base pr; do
  work="$(mktemp -d)/sample"; cp -r "$here/$v" "$work"; mkdir -p "$out/$v"
  (cd "$work" && python -m pytest -q -o junit_family=xunit2 --junitxml="$out/$v/junit.xml" \
      --cov=invoice --cov-branch --cov-report="xml:$out/$v/coverage.xml" tests || true)
  (cd "$work" && bandit -q -r invoice -f json -o "$out/$v/bandit.json" || true)
done
