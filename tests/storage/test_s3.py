"""S3 backend specifics, against moto's S3 server process through real boto3 (and the aws CLI).

The shared invariants are in test_conformance.py; here: tags, lifecycle rules, the capability
probe, multipart uploads, faults, failures and the open layout.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import pytest

from aqe_ci.errors import EXIT_BACKEND, BackendError, NotFoundError
from aqe_ci.model.run import RunFacts
from aqe_ci.retention import lifecycle as lc
from aqe_ci.storage.codec import Codec
from aqe_ci.storage.factory import build_backend
from aqe_ci.storage.s3 import CAPABILITIES_NAME, S3Backend
from aqe_ci.storage.store import Query, Store
from tests.servers.fault_proxy import FaultProxy
from tests.servers.moto_s3 import MotoServer, free_port, server_env

Settings = Callable[..., dict[str, Any]]
SECRET = "s3cr3t-CANARY-value-7Qx"


def raw_client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint, region_name="us-east-1")


def doc(n: int, size: int = 200) -> dict[str, Any]:
    return {"type": "test_results", "timestamp": "2024-05-01T12:00:00Z",
            "data": {"tests_run": n, "passed": n, "failed": 0, "filler": "y" * size}}


def write_config(path: Path, s3: dict[str, Any], **extra: Any) -> Path:
    path.write_text(json.dumps({"backend": "s3", "s3": s3, **extra}))
    return path


# -- tags and lifecycle --------------------------------------------------------------------------


def test_every_document_object_is_tagged_with_its_type_and_kind(s3_bucket: Settings,
                                                                 moto_server: MotoServer) -> None:
    settings = s3_bucket()
    store = Store(build_backend("s3", settings))
    m = store.put_document({"type": "coverage", "timestamp": "2024-05-01T12:00:00Z", "data": {"line_rate": 50.0}},
                           key="tagged", run=RunFacts(branch="main", commit="a" * 40, pr=3))
    client = raw_client(moto_server)

    def tags(name: str) -> dict[str, str]:
        resp = client.get_object_tagging(Bucket=settings["bucket"], Key=settings["prefix"] + name)
        return {t["Key"]: t["Value"] for t in resp["TagSet"]}

    assert tags(m.data["payload"]["object"]) == {"aqe-type": "coverage", "aqe-kind": "doc"}
    assert tags("runs/tagged/coverage/default/manifest.json") == {"aqe-type": "coverage", "aqe-kind": "doc"}
    index = [i.name for i in store.backend.list("index/")]
    assert len(index) == 5  # time, type, branch, commit, pr
    assert all(tags(n) == {"aqe-type": "coverage", "aqe-kind": "index"} for n in index)


def test_lifecycle_rules_follow_the_retention_config() -> None:
    retention = {"default_days": 90, "test_results": 30, "security_findings": 365, "keep_latest_n": 100}
    rules = {r["ID"]: r for r in lc.lifecycle_configuration(retention, "qe-fleet")["Rules"]}
    assert rules["aqe:qe-fleet/:test_results:index"]["Expiration"] == {"Days": 30}
    assert rules["aqe:qe-fleet/:test_results:documents"]["Expiration"] == {"Days": 31}
    assert rules["aqe:qe-fleet/:coverage:index"]["Expiration"] == {"Days": 90}  # falls back to default_days
    assert rules["aqe:qe-fleet/:security:documents"]["Expiration"] == {"Days": 366}
    assert rules["aqe:qe-fleet/:security:index"]["Filter"] == {"And": {"Prefix": "qe-fleet/", "Tags": [
        {"Key": "aqe-kind", "Value": "index"}, {"Key": "aqe-type", "Value": "security"}]}}
    abort = rules["aqe:qe-fleet/:abort-incomplete-multipart-uploads"]
    assert abort == {"ID": "aqe:qe-fleet/:abort-incomplete-multipart-uploads", "Status": "Enabled",
                     "Filter": {"Prefix": "qe-fleet/"}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}
    no_prefix = {r["ID"]: r for r in lc.lifecycle_configuration({}, "")["Rules"]}
    assert no_prefix["aqe::claims"]["Filter"] == {"Tag": {"Key": "aqe-kind", "Value": "claim"}}
    assert no_prefix["aqe::test_results:index"]["Expiration"] == {"Days": 90}


def test_lifecycle_apply_round_trips_and_keeps_other_rules(aqe: Any, workdir: Path, s3_bucket: Settings,
                                                            moto_server: MotoServer) -> None:
    settings = s3_bucket(prefix="qe-fleet/")
    client = raw_client(moto_server)
    foreign = {"ID": "someone-else", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
               "Expiration": {"Days": 7}}
    client.put_bucket_lifecycle_configuration(Bucket=settings["bucket"],
                                              LifecycleConfiguration={"Rules": [foreign]})
    retention = {"default_days": 60, "test_results": 14, "coverage_reports": 120, "security_findings": 400}
    cfg = write_config(workdir / "storage.json", settings, retention=retention)
    printed = aqe("--config", str(cfg), "artifacts", "lifecycle")
    assert printed.code == 0, printed.err
    generated = json.loads(printed.out)
    assert generated == lc.lifecycle_configuration(retention, "qe-fleet/")

    applied = aqe("--config", str(cfg), "artifacts", "lifecycle", "--apply")
    assert applied.code == 0, applied.err
    assert "kept 1 other rule" in applied.err
    back = client.get_bucket_lifecycle_configuration(Bucket=settings["bucket"])["Rules"]
    assert lc.normalise(lc.ours(back, "qe-fleet/")) == lc.normalise(generated["Rules"])
    assert [r for r in back if r["ID"] == "someone-else"][0]["Expiration"] == {"Days": 7}
    again = aqe("--config", str(cfg), "artifacts", "lifecycle", "--apply")  # idempotent
    assert again.code == 0, again.err
    back2 = client.get_bucket_lifecycle_configuration(Bucket=settings["bucket"])["Rules"]
    assert len(back2) == len(back)


def test_published_badges_are_served_as_images(aqe: Any, workdir: Path, s3_bucket: Settings,
                                              moto_server: MotoServer) -> None:
    # docs/badges.md: a README can show badges/main/coverage.svg straight from a public bucket; a browser
    # (and GitHub's image proxy) shows an SVG only with its image type, never binary/octet-stream
    settings = s3_bucket(prefix="qe-fleet/")
    cfg = write_config(workdir / "storage.json", settings)
    reports = Path(__file__).resolve().parents[2] / "examples" / "reports" / "base"
    stored = aqe("--config", str(cfg), "artifacts", "store", "--key", "b-1", "--branch", "main",
                 "--file", str(reports / "coverage.xml"))
    assert stored.code == 0, stored.err
    published = aqe("--config", str(cfg), "artifacts", "badge", "--branch", "main", "--publish", "--output",
                    str(workdir / "coverage.svg"))
    assert published.code == 0, published.err
    client = raw_client(moto_server)
    svg = client.get_object(Bucket=settings["bucket"], Key="qe-fleet/badges/main/coverage.svg")
    assert svg["ContentType"] == "image/svg+xml" and svg["CacheControl"] == "no-cache"
    assert svg["Body"].read().decode().rstrip("\n") == (workdir / "coverage.svg").read_text().rstrip("\n")
    endpoint = client.head_object(Bucket=settings["bucket"], Key="qe-fleet/badges/main/coverage.json")
    assert endpoint["ContentType"] == "application/json" and endpoint["CacheControl"] == "no-cache"


def test_lifecycle_output_file_is_accepted_by_the_aws_cli(aqe: Any, workdir: Path, s3_bucket: Settings,
                                                          moto_server: MotoServer) -> None:
    settings = s3_bucket(prefix="qe-fleet/")
    cfg = write_config(workdir / "storage.json", settings)
    out = workdir / "lifecycle.json"
    res = aqe("--config", str(cfg), "artifacts", "lifecycle", "--output", str(out))
    assert res.code == 0, res.err
    assert res.out == ""
    proc = subprocess.run([aws_cli(), "--endpoint-url", moto_server.endpoint, "s3api",
                           "put-bucket-lifecycle-configuration", "--bucket", settings["bucket"],
                           "--lifecycle-configuration", f"file://{out}"],
                          env=server_env(), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    back = raw_client(moto_server).get_bucket_lifecycle_configuration(Bucket=settings["bucket"])["Rules"]
    assert lc.normalise(back) == lc.normalise(json.loads(out.read_text())["Rules"])


def test_lifecycle_needs_an_s3_store(aqe: Any, workdir: Path) -> None:
    (workdir / "storage.json").write_text(json.dumps({"backend": "local"}))
    res = aqe("--config", str(workdir / "storage.json"), "artifacts", "lifecycle", "--apply")
    assert res.code == 2
    assert "lifecycle rules need an S3 store" in res.err


# -- conditional writes ----------------------------------------------------------------------------


def test_conditional_write_probe_runs_once_per_bucket_and_prefix(s3_bucket: Settings,
                                                                 moto_server: MotoServer) -> None:
    settings = s3_bucket(prefix="probe-once/")
    first = build_backend("s3", settings)
    assert isinstance(first, S3Backend)
    assert first.conditional_writes_honoured() is True
    probes = first.requests["PutObject"]
    assert probes >= 3  # two probe writes + the cached answer
    assert first.conditional_writes_honoured() is True
    assert first.requests["PutObject"] == probes  # cached in-process
    stored = json.loads(raw_client(moto_server).get_object(
        Bucket=settings["bucket"], Key=f"probe-once/{CAPABILITIES_NAME}")["Body"].read())
    assert stored["conditional_writes"] is True
    forced = build_backend("s3", {**settings, "conditional_writes": "off"})
    assert forced.conditional_writes_honoured() is False  # type: ignore[attr-defined]
    assert forced.request_count == 0  # type: ignore[attr-defined]


def test_server_ignoring_conditional_headers_is_detected(s3_bucket: Settings, moto_server: MotoServer,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with FaultProxy(moto_server.endpoint, strip_conditional=True) as proxy:
        settings = s3_bucket(endpoint=proxy.endpoint, prefix="ignored/")
        backend = build_backend("s3", settings)
        assert backend.conditional_writes_honoured() is False  # type: ignore[attr-defined]
        assert backend.conditional_writes_honoured() is False  # type: ignore[attr-defined]
        warned = capsys.readouterr().err
        assert warned.count("ignores conditional writes (If-None-Match)") == 1  # once, not per write
        assert "docs/troubleshooting.md#conditional-write-fallback-warning" in warned
        store = Store(backend)
        store.put_document(doc(1), key="once")
        with pytest.raises(Exception, match="already exists"):
            store.put_document(doc(2), key="once")
        assert store.load(store.manifest("once", "test_results"))["data"]["tests_run"] == 1
        assert not [i for i in backend.list("runs/") if ".claim-" in i.name]  # claims are removed


# -- multipart -------------------------------------------------------------------------------------


def test_multipart_upload_round_trips_with_checksums(s3_bucket: Settings, tmp_path: Path) -> None:
    settings = s3_bucket(multipart_threshold_mb=5, multipart_chunk_mb=5)
    backend = build_backend("s3", settings)
    assert isinstance(backend, S3Backend)
    data = random.Random(1).randbytes(12 * 1024 * 1024 + 123)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    backend.put_file("runs/big/coverage/default/blob-0000000000000001-raw", src, if_absent=True)
    assert backend.requests["UploadPart"] == 3
    assert backend.requests["CompleteMultipartUpload"] == 1
    assert backend.get_bytes("runs/big/coverage/default/blob-0000000000000001-raw") == data
    head = backend.client.head_object(Bucket=backend.bucket, Key=backend.prefix +
                                      "runs/big/coverage/default/blob-0000000000000001-raw", ChecksumMode="ENABLED")
    assert head.get("ChecksumCRC32"), head  # the server holds an S3 checksum as well as our sha256
    with pytest.raises(Exception, match="already exists"):
        backend.put_file("runs/big/coverage/default/blob-0000000000000001-raw", src, if_absent=True)
    assert backend.open_multipart_uploads() == []


def test_failed_multipart_upload_is_aborted(s3_bucket: Settings, moto_server: MotoServer, tmp_path: Path) -> None:
    with FaultProxy(moto_server.endpoint, fault_rate=1.0, kinds=("500",), only="partNumber=2") as proxy:
        settings = s3_bucket(endpoint=proxy.endpoint, multipart_threshold_mb=5, multipart_chunk_mb=5,
                             max_attempts=2)
        backend = build_backend("s3", settings)
        src = tmp_path / "big.bin"
        src.write_bytes(os.urandom(11 * 1024 * 1024))
        with pytest.raises(BackendError, match=settings["bucket"]):
            backend.put_file("runs/mp/coverage/default/data-0000000000000001.json", src)
        assert proxy.stats["500"] == 2  # part 2 was tried twice (max_attempts), then the upload gave up
    direct = build_backend("s3", {**settings, "endpoint_url": moto_server.endpoint})
    assert direct.open_multipart_uploads() == []  # type: ignore[attr-defined]
    assert not direct.exists("runs/mp/coverage/default/data-0000000000000001.json")


def test_repair_aborts_multipart_uploads_left_by_killed_writers(s3_bucket: Settings) -> None:
    backend = build_backend("s3", s3_bucket())
    assert isinstance(backend, S3Backend)
    backend.client.create_multipart_upload(Bucket=backend.bucket, Key=backend.prefix + "runs/k/coverage/default/x")
    assert len(backend.open_multipart_uploads()) == 1
    report = Store(backend).repair(grace_seconds=0)
    assert report["orphans"] == ["runs/k/coverage/default/x (multipart upload)"]
    assert backend.open_multipart_uploads() == []


# -- faults ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_200_stores_through_a_faulty_network_succeed_or_fail_cleanly(s3_bucket: Settings,
                                                                      moto_server: MotoServer) -> None:
    with FaultProxy(moto_server.endpoint, fault_rate=0.2, seed=4) as proxy:
        settings = s3_bucket(endpoint=proxy.endpoint, prefix="faults/", multipart_threshold_mb=5,
                             multipart_chunk_mb=5)
        # one client per writer thread, like separate CI jobs: botocore's retry quota is per client
        stores = [Store(build_backend("s3", settings), codec=Codec(algorithm="none")) for _ in range(10)]
        big = 6 * 1024 * 1024

        def put(i: int) -> tuple[int, str]:
            store = stores[i % 10]
            try:
                store.put_document(doc(i, size=big if i % 25 == 0 else 300), key=f"f-{i:03d}",
                                   run=RunFacts(branch="main", commit=f"{i:040x}"))
                return i, "ok"
            except BackendError as exc:
                assert settings["bucket"] in str(exc) or "127.0.0.1" in str(exc), exc
                return i, "failed"

        with ThreadPoolExecutor(10) as pool:
            outcomes = dict(pool.map(put, range(200)))
        faults = sum(proxy.stats[k] for k in ("drop_before", "drop_after", "500", "503"))
        assert faults > 0.15 * proxy.stats["requests"], proxy.stats
    direct = Store(build_backend("s3", {**settings, "endpoint_url": moto_server.endpoint}))
    listed = {e.key for e in direct.list(Query())}
    for key in listed:
        direct.load(direct.manifest(key, "test_results"))  # every listed document reads back verified
    for i, state in outcomes.items():
        key = f"f-{i:03d}"
        if state == "ok":
            assert key in listed
            assert direct.load(direct.manifest(key, "test_results"))["data"]["tests_run"] == i
        else:
            try:
                direct.load(direct.manifest(key, "test_results"))  # whole, or absent
            except NotFoundError:
                pass
    assert sum(s == "ok" for s in outcomes.values()) >= 180, outcomes
    assert direct.backend.open_multipart_uploads() == []  # type: ignore[attr-defined]


# -- failures: one line, exit 8, names the bucket or endpoint, never a secret ------------------------


def _fail(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, s3: dict[str, Any]) -> Any:
    monkeypatch.setenv("S3_TEST_SECRET", SECRET)
    cfg = write_config(workdir / "storage.json", {**s3, "secret_access_key": "${S3_TEST_SECRET}"})
    res = aqe("--config", str(cfg), "artifacts", "list")
    assert res.code == EXIT_BACKEND, (res.code, res.err)
    lines = [ln for ln in res.err.splitlines() if ln.strip()]
    assert len(lines) == 1, res.err
    assert SECRET not in res.err + res.out
    return lines[0]


def test_missing_bucket(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: Settings) -> None:
    settings = s3_bucket()
    line = _fail(aqe, workdir, monkeypatch, {**settings, "bucket": "no-such-bucket-here"})
    assert "S3 bucket no-such-bucket-here does not exist at http://127.0.0.1:" in line


def test_access_denied(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: Settings,
                       moto_server: MotoServer) -> None:
    with FaultProxy(moto_server.endpoint, status=403) as proxy:
        settings = s3_bucket(endpoint=proxy.endpoint)
        line = _fail(aqe, workdir, monkeypatch, settings)
    assert f"access denied to s3://{settings['bucket']}/qe/" in line
    assert proxy.endpoint in line


def test_wrong_region(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: Settings,
                      moto_server: MotoServer) -> None:
    with FaultProxy(moto_server.endpoint, status=400) as proxy:
        line = _fail(aqe, workdir, monkeypatch, s3_bucket(endpoint=proxy.endpoint))
    assert "is not in region us-east-1; it is in eu-west-1" in line
    assert "set s3.region" in line


def test_endpoint_down(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch, s3_bucket: Settings) -> None:
    port = free_port()
    line = _fail(aqe, workdir, monkeypatch, s3_bucket(endpoint=f"http://127.0.0.1:{port}", max_attempts=2))
    assert f"cannot reach S3 endpoint http://127.0.0.1:{port}" in line


def test_throttling_is_retried_then_reported(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                             s3_bucket: Settings, moto_server: MotoServer) -> None:
    with FaultProxy(moto_server.endpoint, status=503) as proxy:
        settings = s3_bucket(endpoint=proxy.endpoint, max_attempts=3)
        line = _fail(aqe, workdir, monkeypatch, settings)
        assert proxy.stats["requests"] == 3  # retried by botocore's standard mode
    assert f"S3 endpoint {proxy.endpoint} is throttling requests to bucket {settings['bucket']}" in line


def test_no_credentials_anywhere(aqe: Any, workdir: Path, monkeypatch: pytest.MonkeyPatch,
                                 s3_bucket: Settings) -> None:
    settings = {k: v for k, v in s3_bucket().items() if k not in ("access_key_id", "secret_access_key")}
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    cfg = write_config(workdir / "storage.json", settings)
    res = aqe("--config", str(cfg), "artifacts", "list")
    assert res.code == EXIT_BACKEND
    assert f"no usable AWS credentials for S3 bucket {settings['bucket']}" in res.err


def test_web_identity_credentials_from_the_standard_chain(s3_bucket: Settings, moto_server: MotoServer,
                                                          tmp_path: Path) -> None:
    """No keys in the config: GitHub OIDC style AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE (STS on moto)."""
    settings = {k: v for k, v in s3_bucket().items() if k not in ("access_key_id", "secret_access_key")}
    Store(build_backend("s3", s3_bucket() | {"bucket": settings["bucket"]})).put_document(doc(1), key="oidc")
    token = tmp_path / "token"
    token.write_text("eyJhbGciOiJSUzI1NiJ9.e30.c2lnbmF0dXJl")
    env = {k: v for k, v in server_env().items() if k not in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    env.update({"AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci", "AWS_WEB_IDENTITY_TOKEN_FILE": str(token),
                "AWS_ROLE_SESSION_NAME": "ci", "AWS_ENDPOINT_URL_STS": moto_server.endpoint})
    cfg = write_config(tmp_path / "storage.json", settings)
    proc = subprocess.run([sys.executable, "-m", "aqe_ci", "--config", str(cfg), "artifacts", "list",
                           "--format", "json"], env=env, capture_output=True, text=True, timeout=60, check=False,
                          cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "oidc" in proc.stdout
    env.pop("AWS_ROLE_ARN")
    env.pop("AWS_WEB_IDENTITY_TOKEN_FILE")
    proc = subprocess.run([sys.executable, "-m", "aqe_ci", "--config", str(cfg), "artifacts", "list"], env=env,
                          capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert proc.returncode == EXIT_BACKEND, proc.stderr
    assert "no usable AWS credentials" in proc.stderr


# -- open layout -----------------------------------------------------------------------------------


def aws_cli() -> str:
    found = Path(sys.executable).parent / "aws"
    if found.exists():
        return str(found)
    which = shutil.which("aws")
    assert which, "the aws CLI is installed by the test extra (awscli)"
    return which


def test_docs_recipe_reads_a_stored_document_with_aws_cli_gunzip_and_jq(s3_bucket: Settings,
                                                                        moto_server: MotoServer) -> None:
    assert shutil.which("jq"), "jq is needed for the storage-layout recipe (apt-get install jq)"
    settings = s3_bucket(prefix="qe-fleet/")
    document = doc(42)
    Store(build_backend("s3", settings)).put_document(document, key="build-abc123",
                                                      run=RunFacts(branch="main"))
    base = f"s3://{settings['bucket']}/qe-fleet"
    aws = f"{aws_cli()} --endpoint-url {moto_server.endpoint}"
    # the recipe of docs/storage-layout.md, "Reading a store with standard tools"
    script = f"""set -euo pipefail
{aws} s3 ls {base}/index/time/ --recursive | head
obj=$({aws} s3 cp {base}/runs/build-abc123/test_results/default/manifest.json - | jq -r .payload.object)
{aws} s3 cp "{base}/$obj" - | gunzip | jq .
"""
    proc = subprocess.run(["bash", "-c", script], env=server_env(), capture_output=True, text=True, timeout=120,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    listing, _, body = proc.stdout.partition("{")
    assert "~build-abc123~test_results~default~" in listing
    assert json.loads("{" + body) == document
