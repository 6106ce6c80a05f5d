"""``backend: github`` against the fake results service + REST API (tests/servers/results_service.py),
its signed URLs on Azurite: the shared conformance suite, with the exceptions the platform forces
replaced by tests of what the platform does instead.

Exceptions (docs/backends.md, "What GitHub changes"):

* the stored bytes cannot be rewritten through the platform (artifacts are immutable), so the
  integrity tests corrupt the blob in the blob store itself;
* a writer killed before ``FinalizeArtifact`` leaves an unfinished upload that GitHub never lists
  and discards by itself: there is no orphan for cleanup to collect, and the name is not blocked;
* listing a key shows its manifests (one per document artifact), not the files inside the zips.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from aqe_ci.errors import ConflictError, IntegrityError, NotFoundError
from aqe_ci.model.run import RunFacts
from aqe_ci.storage.github import GitHubBackend
from aqe_ci.storage.store import Query, Store
from tests.servers.azurite import Azurite
from tests.servers.results_service import ResultsService, Run
from tests.storage.conformance import BackendSpec, StoreConformance, doc


class GitHubStores:
    """Fresh fakes (one repository each) on the session's Azurite, each with one workflow run."""

    def __init__(self, azurite: Azurite) -> None:
        self.azurite = azurite
        self.fakes: list[ResultsService] = []

    def spec(self) -> BackendSpec:
        fake = ResultsService(self.azurite).start()
        self.fakes.append(fake)
        run = fake.new_run(branch="main", sha="e" * 40)
        settings = settings_for(fake, run)
        return BackendSpec("github", settings, label="github", fresh=self.spec,
                           writer_settings=lambda i: {"runtime_token": fake.runtime_token(run)})

    def close(self) -> None:
        for fake in self.fakes:
            fake.stop()


def settings_for(fake: ResultsService, run: Run, **extra: Any) -> dict[str, Any]:
    return {"repository": fake.repository, "api_url": fake.url, "results_url": fake.url + "/",
            "token": fake.rest_token("write"), "runtime_token": fake.runtime_token(run), **extra}


@pytest.fixture()
def github_stores(azurite: Azurite) -> Iterator[GitHubStores]:
    stores = GitHubStores(azurite)
    try:
        yield stores
    finally:
        stores.close()


@pytest.fixture()
def backend_spec(github_stores: GitHubStores) -> BackendSpec:
    return github_stores.spec()


def fake_of(spec: BackendSpec, stores: GitHubStores) -> ResultsService:
    return next(f for f in stores.fakes if f.url == spec.settings["api_url"])


def corrupt(fake: ResultsService, name: str, mutate: Callable[[bytes], bytes], *, fix_digest: bool) -> None:
    """Rewrite the blob of artifact ``name`` in Azurite (what no platform API can do)."""
    import hashlib

    art = next(a for a in fake.live() if a.name == name)
    client = fake.blob_client(art.blob)
    data = mutate(client.download_blob().readall())
    client.upload_blob(data, overwrite=True)
    if fix_digest:
        art.digest = "sha256:" + hashlib.sha256(data).hexdigest()
        art.size = len(data)


def rezip(data: bytes, edit: Callable[[str, bytes], bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, edit(info.filename, src.read(info.filename)))
    return out.getvalue()


class TestGitHubConformance(StoreConformance):
    # -- 1. immutability: same checks, seen through artifacts --------------------------------------
    def test_second_write_conflicts_and_overwrite_replaces(self, backend_spec: BackendSpec,
                                                            github_stores: GitHubStores) -> None:
        fake = fake_of(backend_spec, github_stores)
        store = backend_spec.store()
        store.put_document(doc(1), key="run-1", run=RunFacts(branch="main", commit="a" * 40))
        with pytest.raises(ConflictError, match="run-1/test_results/default already exists"):
            store.put_document(doc(2), key="run-1")
        assert store.load(store.manifest("run-1", "test_results"))["data"]["tests_run"] == 1
        store.put_document(doc(3), key="run-1", overwrite=True, run=RunFacts(branch="main", commit="b" * 40))
        again = backend_spec.store()
        assert again.load(again.manifest("run-1", "test_results"))["data"]["tests_run"] == 3
        assert [a.name for a in fake.live()].count("aqe~d~run-1~test_results~default") == 1
        listed = list(again.list(Query()))
        assert [(e.key, e.commit) for e in listed] == [("run-1", "b" * 40)]
        assert again.by_commit("a" * 40) == []

    def test_second_write_in_another_run_conflicts(self, backend_spec: BackendSpec,
                                                   github_stores: GitHubStores) -> None:
        fake = fake_of(backend_spec, github_stores)
        backend_spec.store().put_document(doc(1), key="shared", run=RunFacts(branch="main"))
        other = Store(GitHubBackend(**_kwargs(settings_for(fake, fake.new_run(branch="dev")))))
        with pytest.raises(ConflictError):
            other.put_document(doc(2), key="shared", run=RunFacts(branch="dev"))
        assert [a.name for a in fake.live()].count("aqe~d~shared~test_results~default") == 1

    # -- 2. atomic visibility ------------------------------------------------------------------
    def test_document_without_manifest_is_invisible_and_collected(self, backend_spec: BackendSpec,
                                                                   github_stores: GitHubStores) -> None:
        """Exception: a writer dying before FinalizeArtifact leaves nothing listable; GitHub discards
        the upload, so there is no orphan to collect and the document can be written again."""
        fake = fake_of(backend_spec, github_stores)
        store = backend_spec.store()
        store.put_document(doc(1), key="whole", run=RunFacts(branch="main"))
        backend = backend_spec.make()
        assert isinstance(backend, GitHubBackend)
        real_twirp = backend._twirp

        def dying(method: str, body: dict[str, Any], runtime: Any) -> dict[str, Any]:
            if method == "FinalizeArtifact" and body["name"].startswith("aqe~d~half"):
                raise KeyboardInterrupt  # the writer dies between its upload and the commit point
            return real_twirp(method, body, runtime)

        backend._twirp = dying  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            Store(backend).put_document(doc(2), key="half", run=RunFacts(branch="main"))
        assert any(p.name.startswith("aqe~d~half") for p in fake.pending.values())  # uploaded, unfinished
        assert [e.key for e in store.list(Query())] == ["whole"]
        with pytest.raises(NotFoundError):
            store.manifest("half", "test_results")
        assert not any(a.name.startswith("aqe~d~half") for a in fake.live())
        assert Store(backend_spec.make()).repair(grace_seconds=0)["orphans"] == []
        store.put_document(doc(3), key="half", run=RunFacts(branch="main"))  # not blocked
        assert sorted(e.key for e in store.list(Query())) == ["half", "whole"]

    def test_killed_between_document_and_entry_is_readable_and_reindexed(self, backend_spec: BackendSpec,
                                                                        github_stores: GitHubStores) -> None:
        store = backend_spec.store()
        backend = store.backend
        assert isinstance(backend, GitHubBackend)
        real = backend._upload_artifact

        def no_entry(name: str, source: Any, expires: Any) -> int:
            if name.startswith("aqe~e"):
                raise KeyboardInterrupt
            return real(name, source, expires)

        backend._upload_artifact = no_entry  # type: ignore[method-assign]
        with pytest.raises(KeyboardInterrupt):
            store.put_document(doc(4), key="unlisted", run=RunFacts(branch="main"))
        reader = backend_spec.store()
        assert list(reader.list(Query())) == []
        assert reader.load(reader.manifest("unlisted", "test_results"))["data"]["tests_run"] == 4
        assert reader.repair(grace_seconds=0)["reindexed"] == ["unlisted/test_results/default"]
        assert [e.key for e in backend_spec.store().list(Query())] == ["unlisted"]

    # -- 3. integrity: corrupt the blob where it lives ---------------------------------------------
    @pytest.mark.parametrize("algorithm", ["gzip", "none"])
    def test_flipped_byte_is_an_integrity_error_naming_the_object(self, backend_spec: BackendSpec, algorithm: str,
                                                                   github_stores: GitHubStores) -> None:
        from aqe_ci.storage.codec import Codec

        fake = fake_of(backend_spec, github_stores)
        store = backend_spec.store(codec=Codec(algorithm=algorithm))
        m = store.put_document(doc(5, size=5000), key="flip")
        obj = m.data["payload"]["object"]

        def flip(name: str, data: bytes) -> bytes:
            if name != obj:
                return data
            raw = bytearray(data)
            raw[len(raw) // 2] ^= 0x01
            return bytes(raw)

        # the artifact's digest still names the original zip: the download check fails first
        corrupt(fake, "aqe~d~flip~test_results~default", lambda z: rezip(z, flip), fix_digest=False)
        with pytest.raises(IntegrityError, match="aqe~d~flip~test_results~default .* sha256 digest"):
            backend_spec.store().manifest("flip", "test_results")
        # with a matching digest (the zip was replaced whole), the manifest's sha256 catches it
        corrupt(fake, "aqe~d~flip~test_results~default", lambda z: z, fix_digest=True)
        reader = backend_spec.store()
        with pytest.raises(IntegrityError) as err:
            reader.load(reader.manifest("flip", "test_results"))
        assert obj in str(err.value)

    # -- 4. one document, 8 writers (each its own CI job of one workflow run) ----------------------
    @pytest.mark.slow
    def test_8_concurrent_writers_of_one_document_exactly_one_wins(self, backend_spec: BackendSpec,
                                                                    tmp_path: Any,
                                                                    github_stores: GitHubStores) -> None:
        from tests.storage.conformance import run_writers

        fake = fake_of(backend_spec, github_stores)
        plans = [{"jobs": [{"key": "same", "n": i, "writer": f"w{i}"}]} for i in range(8)]
        lines = [ln for ln in run_writers(backend_spec, tmp_path, plans) if ln["state"] != "started"]
        assert sorted(ln["state"] for ln in lines) == ["conflict"] * 7 + ["ok"], lines
        store = backend_spec.store()
        winner = next(ln for ln in lines if ln["state"] == "ok")
        stored = store.load(store.manifest("same", "test_results"))
        assert [e.key for e in store.list(Query())] == ["same"]
        assert [a.name for a in fake.live()].count("aqe~d~same~test_results~default") == 1
        assert stored["data"]["writer"] in {f"w{i}" for i in range(8)}
        assert winner["key"] == "same"

    # -- delete --------------------------------------------------------------------------------
    def test_delete_removes_every_object(self, backend_spec: BackendSpec, github_stores: GitHubStores) -> None:
        super().test_delete_removes_every_object(backend_spec)
        fake = fake_of(backend_spec, github_stores)
        assert not [a.name for a in fake.live() if "~gone~" in a.name or a.name.startswith("aqe~d~gone")]


def _kwargs(settings: dict[str, Any]) -> dict[str, Any]:
    return {"repository": settings["repository"], "api_url": settings["api_url"],
            "results_url": settings["results_url"], "token": settings["token"],
            "runtime_token": settings["runtime_token"]}
