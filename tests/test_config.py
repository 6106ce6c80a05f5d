"""Config lookup, ${VAR} expansion, comments, schema errors by file and JSON path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aqe_ci.config import load_config
from aqe_ci.errors import EXIT_USAGE, ConfigError


def write_cfg(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_defaults_when_no_file(workdir: Path) -> None:
    cfg = load_config(None, {})
    assert cfg.source == "built-in defaults"
    assert cfg.backend == "local" and cfg.section("local")["base_path"] == ".qe-artifacts/"
    assert cfg.codec.algorithm == "gzip" and cfg.codec.level == 6


def test_lookup_order(workdir: Path) -> None:
    write_cfg(workdir / "config" / "storage.json", '{"compression": {"algorithm": "zstd", "level": 3}}')
    other = write_cfg(workdir / "other.json", '{"compression": {"enabled": false}}')
    assert load_config(None, {}).codec.algorithm == "zstd"
    assert load_config(None, {"AQE_CONFIG": str(other)}).codec.algorithm == "none"
    assert load_config(str(other), {"AQE_CONFIG": "missing.json"}).source == str(other)


def test_guide_example_with_comments_and_vars(workdir: Path) -> None:
    text = """{
      "backend": "s3",
      "s3": {
        "bucket": "my-qe-artifacts",
        "region": "us-east-1",
        "access_key_id": "${AWS_ACCESS_KEY_ID}",
        "secret_access_key": "${AWS_SECRET_ACCESS_KEY}",
        "endpoint_url": null,  # For MinIO: "https://minio.example.com"
        "prefix": "qe-fleet/",
        "use_ssl": true
      },
      // retention as in the guide
      "retention": {"default_days": 90, "test_results": 30, "coverage_reports": 90,
                    "security_findings": 365, "keep_latest_n": 100}
    }"""
    p = write_cfg(workdir / "storage.json", text)
    cfg = load_config(str(p), {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "s3cr3t-value"})
    assert cfg.section("s3")["secret_access_key"] == "s3cr3t-value"
    red = cfg.redacted()
    assert red["s3"]["secret_access_key"] == "***" and red["s3"]["access_key_id"] == "***"
    assert "s3cr3t-value" not in json.dumps(red)
    assert cfg.retention_days("coverage") == 90 and cfg.retention_days("test_results") == 30


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ('{"backend": "local", "colour": "blue"}', {}, "$: Additional properties are not allowed ('colour'"),
        ('{"local": {"base_path": ".q", "creat_dirs": true}}', {}, "$.local: Additional properties"),
        ('{"compression": {"algorithm": "brotli"}}', {}, "$.compression.algorithm"),
        ('{"retention": {"keep_latest_n": -1}}', {}, "$.retention.keep_latest_n"),
        ('{"backend": "s3", "s3": {"bucket": "${BUCKET}"}}', {}, "$.s3.bucket: environment variable ${BUCKET} is not set"),
        ('{"backend": "local",}x', {}, "invalid JSON"),
        ('[]', {}, "must be a JSON object"),
    ],
)
def test_config_errors_name_file_and_path(workdir: Path, text: str, env: dict[str, str], expected: str) -> None:
    p = write_cfg(workdir / "bad.json", text)
    with pytest.raises(ConfigError) as err:
        load_config(str(p), env)
    msg = err.value.one_line()
    assert str(p) in msg and expected in msg, msg
    assert err.value.exit_code == EXIT_USAGE


def test_var_default_syntax(workdir: Path) -> None:
    p = write_cfg(workdir / "c.json", '{"local": {"base_path": "${STORE_DIR:-.store/}"}}')
    assert load_config(str(p), {}).section("local")["base_path"] == ".store/"
    assert load_config(str(p), {"STORE_DIR": "/data/x"}).section("local")["base_path"] == "/data/x"


def test_cli_config_validate_and_show(aqe, workdir: Path) -> None:
    good = write_cfg(workdir / "good.json", '{"backend": "local"}')
    r = aqe("config", "validate", str(good))
    assert r.code == 0 and "is valid" in r.out
    bad = write_cfg(workdir / "bad.json", '{"backend": "ftp"}')
    r = aqe("config", "validate", str(bad))
    assert r.code == EXIT_USAGE and "bad.json: $.backend" in r.err
    r = aqe("--config", str(bad), "artifacts", "list")
    assert r.code == EXIT_USAGE and len(r.err.strip().splitlines()) == 1
    r = aqe("--config", str(good), "config", "show", "--format", "json")
    assert json.loads(r.out)["source"] == str(good)
    r = aqe("--config", str(workdir / "missing.json"), "artifacts", "list")
    assert r.code == EXIT_USAGE and "does not exist" in r.err


def test_local_store_base_path_from_config(aqe, workdir: Path) -> None:
    write_cfg(workdir / "config" / "storage.json", '{"local": {"base_path": "elsewhere/", "create_dirs": true}}')
    doc = workdir / "t.json"
    doc.write_text(json.dumps({"type": "security", "timestamp": "2025-11-12T10:00:00Z",
                               "data": {"vulnerabilities": [], "summary": {"critical": 0, "high": 0, "medium": 0}}}))
    assert aqe("artifacts", "store", "--file", str(doc), "--key", "k").code == 0
    assert (workdir / "elsewhere" / "runs" / "k" / "security" / "default" / "manifest.json").is_file()
    write_cfg(workdir / "config" / "storage.json", '{"local": {"base_path": "nowhere/", "create_dirs": false}}')
    r = aqe("artifacts", "list")
    assert r.code == 8 and "does not exist" in r.err


def test_typed_sections_name_every_schema_property() -> None:
    """A setting added to the schema gets its typed field too (Config.s3, .github, …)."""
    from dataclasses import fields

    from aqe_ci.config import GitHubSettings, GitLabSettings, LocalSettings, RetentionSettings, S3Settings
    from aqe_ci.model.schema import schema

    props = schema("config")["properties"]
    for name, cls in (("local", LocalSettings), ("s3", S3Settings), ("github", GitHubSettings),
                      ("gitlab", GitLabSettings), ("retention", RetentionSettings)):
        assert set(props[name]["properties"]) == {f.name for f in fields(cls)}, name
