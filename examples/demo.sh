#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded default store (.qe-artifacts/).
# Two runs of the sample project (examples/sample-project, reports made by pytest, coverage.py and
# bandit: examples/reports/): the base branch run, then a pull request run. Stores both, lists them,
# gets one, compares the PR against its baseline and prints the PR comment aqe would post. Last, the
# GitHub action's entrypoint runs as a runner would run it, against a local fake GitHub, and the
# comment it posted is printed.
set -euo pipefail
cd "$(dirname "$0")/.."
reports=examples/reports
step() { printf '\n\033[1m== %s\033[0m\n$ %s\n' "$1" "${*:2}"; "${@:2}"; }

# a small git history for the sample project: main, then a PR branch on top of it, so the
# comparison can find the merge-base run like it does in CI (identity set for this repo only)
repo="$(mktemp -d)/sample-project"
mkdir -p "$repo" && git -C "$repo" init -q -b main
gitc() { git -C "$repo" -c user.name=demo -c user.email=demo@example.invalid "$@"; }
cp -r examples/sample-project/base/. "$repo/" && gitc add -A && gitc commit -qm "invoice: base"
base_sha=$(git -C "$repo" rev-parse HEAD)
gitc checkout -qb feature/json-storage
cp -r examples/sample-project/pr/. "$repo/" && gitc add -A && gitc commit -qm "invoice: store JSON, print"
pr_sha=$(git -C "$repo" rev-parse HEAD)
gitc checkout -q main && echo "# moved on" >> "$repo/invoice/__init__.py" && gitc commit -qam "main moves on"

# start from a clean slate for the two demo runs (the store itself is kept)
aqe artifacts delete demo-base --yes >/dev/null 2>&1 || true
aqe artifacts delete demo-pr-42 --yes >/dev/null 2>&1 || true

step "store the base run (main)" \
  aqe artifacts store --key demo-base --branch main --commit "$base_sha" \
    --file "$reports/base/junit.xml" --file "$reports/base/coverage.xml" --file "$reports/base/bandit.json"
step "store the pull request run (feature/json-storage, PR #42)" \
  aqe artifacts store --key demo-pr-42 --branch feature/json-storage --pr 42 --base-branch main \
    --commit "$pr_sha" --tag suite=unit \
    --file "$reports/pr/junit.xml" --file "$reports/pr/coverage.xml" --file "$reports/pr/bandit.json"
step "list them" aqe artifacts list --limit 10
step "get one" aqe artifacts get demo-pr-42 --format table
step "compare the PR with its baseline (the merge-base run)" \
  aqe artifacts compare demo-pr-42 --baseline main --git-dir "$repo" --format table
step "the PR comment it would post" \
  aqe artifacts compare demo-pr-42 --baseline main --git-dir "$repo" --format markdown
step "the GitHub action's step as the runner runs it (entrypoint.py, fake GitHub on 127.0.0.1)" \
  python examples/action_demo.py
