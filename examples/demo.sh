#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded default store (.qe-artifacts/).
# Two runs of the sample project (examples/sample-project, reports made by pytest, coverage.py and
# bandit: examples/reports/): the base branch run, then a pull request run. Stores both, lists them,
# gets one, compares the PR against its baseline and prints the PR comment aqe would post.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=examples/reports
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

# start from a clean slate for the two demo runs (the store itself is kept)
aqe artifacts delete demo-base --yes >/dev/null 2>&1 || true
aqe artifacts delete demo-pr-42 --yes >/dev/null 2>&1 || true

step "store the base run (main)" \
  aqe artifacts store --key demo-base --branch main --commit 3f2c1a9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39 \
    --file "$reports/base/junit.xml" --file "$reports/base/coverage.xml" --file "$reports/base/bandit.json"
step "store the pull request run (feature/json-storage, PR #42)" \
  aqe artifacts store --key demo-pr-42 --branch feature/json-storage --pr 42 --base-branch main \
    --commit 9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b --tag suite=unit \
    --file "$reports/pr/junit.xml" --file "$reports/pr/coverage.xml" --file "$reports/pr/bandit.json"
step "list them" aqe artifacts list --limit 10
step "get one" aqe artifacts get demo-pr-42 --format table
step "compare the PR with its baseline" aqe artifacts compare demo-pr-42 --baseline main --format table
step "the PR comment it would post" aqe artifacts compare demo-pr-42 --baseline main --format markdown
