"""GitHub's own client, @actions/artifact (npm, pinned in tools/node), judges the fake and the backend.

* An artifact the client uploads (its zip, its Azure SDK block upload) in our layout: our backend
  lists it and reads it back, verified.
* A document our backend writes: the client lists it (results service), downloads it through the
  results service and through REST (302 → Azurite), and the files it extracts are byte-identical to
  what we stored, with the sha256 digest it computes equal to the artifact's.

Node and the client are installed by ``make node-tools``; a missing install fails, it is never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.model.run import RunFacts
from aqe_ci.storage.codec import Codec
from aqe_ci.storage.github import GitHubBackend, content_name, entry_name, pointer_name
from aqe_ci.storage.local import LocalBackend
from aqe_ci.storage.store import Query, Store
from tests.servers.azurite import ROOT, require_node_tool
from tests.servers.results_service import ResultsService, Run
from tests.storage.conformance import doc

CLIENT = ROOT / "tests" / "node" / "artifact_client.js"
PACKAGE = ROOT / "tools" / "node" / "node_modules" / "@actions" / "artifact" / "package.json"


def node_client(fake: ResultsService, run: Run, *args: str, token: str | None = None, rest: str | None = None,
                expected_hash: str | None = None, cwd: Path | None = None) -> Any:
    require_node_tool(PACKAGE, "@actions/artifact")
    node = shutil.which("node")
    assert node, "node is required (Node 20+): make test installs the npm tools with it"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACTIONS_", "GITHUB_"))}
    env.update({"ACTIONS_RUNTIME_TOKEN": token or fake.runtime_token(run), "ACTIONS_RESULTS_URL": fake.url + "/",
                "GITHUB_SERVER_URL": "https://github.com", "GITHUB_API_URL": fake.url,
                "GITHUB_REPOSITORY": fake.repository, "GITHUB_TOKEN": rest or fake.rest_token("read"),
                "GITHUB_WORKSPACE": str(cwd or ROOT), "NO_PROXY": "127.0.0.1,localhost",
                "EXPECTED_HASH": expected_hash or ""})
    proc = subprocess.run([node, str(CLIENT), *args], env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, check=False, cwd=cwd)
    assert proc.returncode == 0, proc.stderr[-3000:] + proc.stdout[-2000:]
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("AQE-RESULT "))
    return json.loads(line[len("AQE-RESULT "):])


def reader(fake: ResultsService) -> Store:
    return Store(GitHubBackend(repository=fake.repository, token=fake.rest_token("read"), api_url=fake.url))


def test_an_artifact_uploaded_by_actions_artifact_is_listed_and_read(results_service: ResultsService,
                                                                     tmp_path: Path) -> None:
    fake = results_service
    run = fake.new_run(branch="main", sha="c" * 40)
    # the document's files in the open layout, as any backend stores them
    local = Store(LocalBackend(str(tmp_path / "layout")))
    document = doc(9, size=3000)
    m = local.put_document(document, key="from-client", run=RunFacts(branch="main", commit="c" * 40))
    root = tmp_path / "layout"
    files = [str(p.relative_to(root)) for p in sorted((root / "runs").rglob("*")) if p.is_file()]
    job = fake.runtime_token(run)
    for name, paths in ((pointer_name("aqe", "k", "from-client"), files[:1]),
                        (content_name("aqe", "from-client", "test_results", "default"), files),
                        (entry_name("aqe", m.entry(), True), files[:1])):
        out = node_client(fake, run, "upload", name, str(root), *paths, token=job)
        assert out["id"] > 0 and out["size"] > 0
    store = reader(fake)
    listed = list(store.list(Query(limit=10)))
    assert [(e.key, e.branch, e.commit) for e in listed] == [("from-client", "main", "c" * 40)]
    assert store.load(store.manifest("from-client", "test_results")) == document
    assert [e.key for e in store.by_commit("c" * 40)] == ["from-client"]


def test_a_document_our_backend_writes_is_listed_and_downloaded_byte_identical(results_service: ResultsService,
                                                                               tmp_path: Path) -> None:
    fake = results_service
    run = fake.new_run(branch="main", sha="d" * 40)
    token = fake.runtime_token(run)
    writer = Store(GitHubBackend(repository=fake.repository, token=fake.rest_token("write"), api_url=fake.url,
                                 runtime_token=token, results_url=fake.url + "/"), codec=Codec(algorithm="none"))
    document = doc(11, size=4000)
    m = writer.put_document(document, key="ours", run=RunFacts(branch="main", commit="d" * 40))
    name = content_name("aqe", "ours", "test_results", "default")
    art = next(a for a in fake.live() if a.name == name)

    listed = node_client(fake, run, "list", token=token)["artifacts"]
    assert name in [a["name"] for a in listed]
    item = next(a for a in listed if a["name"] == name)
    assert item["id"] == art.id and item["digest"] == art.digest

    public = node_client(fake, run, "get-public", name, str(run.run_id))["artifact"]
    assert public["id"] == art.id

    expected_payload = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    for how, args in (("download", [str(art.id), str(tmp_path / "internal")]),
                      ("download-public", [str(art.id), str(tmp_path / "public")])):
        out = node_client(fake, run, how, *args, token=token, expected_hash=art.digest)
        assert out["digestMismatch"] is False, how
        got = Path(args[1])
        manifest = json.loads((got / "runs/ours/test_results/default/manifest.json").read_bytes())
        assert manifest == m.data, how
        assert (got / m.data["payload"]["object"]).read_bytes() == expected_payload, how
        assert sorted(str(p.relative_to(got)) for p in got.rglob("*") if p.is_file()) == sorted(
            ["runs/ours/test_results/default/manifest.json", m.data["payload"]["object"]])


@pytest.mark.parametrize("retention", [7, 400])
def test_retention_from_the_client_and_from_us_is_capped_alike(results_service: ResultsService, tmp_path: Path,
                                                               retention: int) -> None:
    """Both ask for expires_at = now + days; the fake caps it at the repository maximum (90)."""
    fake = results_service
    run = fake.new_run()
    (tmp_path / "f.txt").write_text("x")
    os.environ["RETENTION_DAYS"] = str(retention)
    try:
        node_client(fake, run, "upload", f"client-{retention}", str(tmp_path), "f.txt")
    finally:
        os.environ.pop("RETENTION_DAYS")
    art = next(a for a in fake.live() if a.name == f"client-{retention}")
    days = (art.expires_at - art.created_at).total_seconds() / 86400
    assert round(days) == min(retention, fake.max_retention_days)
