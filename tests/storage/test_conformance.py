"""The conformance suite (tests/storage/conformance.py) against every backend.

* ``local``: a LocalBackend in a temp directory;
* ``s3``: moto's S3 server process, through real boto3 over HTTP, conditional writes honoured;
* ``s3-no-conditional``: the same server behind a proxy that strips ``If-None-Match``, like an
  S3-compatible server that ignores it: the probe notices and the claim protocol takes over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from aqe_ci.storage.s3 import S3Backend
from tests.servers.fault_proxy import FaultProxy
from tests.servers.moto_s3 import MotoServer
from tests.storage.conformance import BackendSpec, StoreConformance


@pytest.fixture(scope="module")
def stripping_proxy(moto_server: MotoServer) -> Iterator[FaultProxy]:
    with FaultProxy(moto_server.endpoint, strip_conditional=True) as proxy:
        yield proxy


#: the tests of the create-only commit point also run with conditional writes ignored by the server
#: (the claim protocol); codecs, integrity, query costs and deletes do not depend on it, and the 200
#: killed writes (~40 s on moto) run on local and s3 only, to keep the suite's time down
WRITE_PROTOCOL_TESTS = {
    "test_second_write_conflicts_and_overwrite_replaces",
    "test_document_without_manifest_is_invisible_and_collected",
    "test_32_concurrent_writers_of_distinct_documents_are_all_listed",
    "test_8_concurrent_writers_of_one_document_exactly_one_wins",
    "test_backend_mode_is_what_the_param_says",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend_spec" in metafunc.fixturenames:
        kinds = ["local", "s3"]
        if metafunc.function.__name__ in WRITE_PROTOCOL_TESTS:
            kinds.append("s3-no-conditional")
        metafunc.parametrize("backend_kind", kinds, ids=kinds)


@pytest.fixture()
def backend_spec(backend_kind: str, request: pytest.FixtureRequest, tmp_path: Path,
                 s3_bucket: Callable[..., dict[str, Any]]) -> BackendSpec:
    counter = iter(range(1000))

    def make() -> BackendSpec:
        n = next(counter)
        if backend_kind == "local":
            return BackendSpec("local", {"base_path": str(tmp_path / f"store-{n}")}, label="local", fresh=make)
        if backend_kind == "s3":
            return BackendSpec("s3", s3_bucket(), label="s3", fresh=make)
        proxy = request.getfixturevalue("stripping_proxy")
        return BackendSpec("s3", s3_bucket(endpoint=proxy.endpoint), label="s3-no-conditional", fresh=make)

    return make()


class TestStoreConformance(StoreConformance):
    def test_backend_mode_is_what_the_param_says(self, backend_spec: BackendSpec) -> None:
        backend = backend_spec.make()
        if isinstance(backend, S3Backend):
            assert backend.conditional_writes_honoured() is (backend_spec.label == "s3")
            assert backend.endpoint.startswith("http://127.0.0.1:")
        else:
            assert backend_spec.label == "local"
