"""Configuration: ``config/storage.json`` in the Artifact Storage Guide's format.

Lookup order: ``--config PATH`` (or ``AQE_CONFIG``), then ``./config/storage.json``, else built-in
defaults (the local backend under ``.qe-artifacts/``). ``${VAR}`` and ``${VAR:-default}`` in string
values come from the environment; an unset variable without default is an error naming the file, the
JSON path and the variable. ``#`` and ``//`` line comments are accepted (the guide's examples have
them). The file is validated against ``aqe_ci/schemas/config.schema.json``; errors name the file and
the JSON path. Secret values (keys, tokens, and anything that came from a variable whose name looks
secret) are registered with :mod:`aqe_ci.secrets` so no output can show them.

The result is a frozen :class:`Config` of typed sections (``Config.local``, ``.s3``, ``.github``,
``.gitlab``, ``.retention``, ``.codec``, ``.limits``), checked when the file is read. Layer: this
module sits at the bottom with ``model/`` (it imports only model, errors and secrets), so the layers
above can take its sections as constructor arguments; only the composition root (``aqe_ci.app``) and
``aqe config`` load a file.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from aqe_ci import secrets
from aqe_ci.errors import ConfigError
from aqe_ci.model.compression import DEFAULT_ALGORITHM, DEFAULT_LEVEL, Codec, level_problem
from aqe_ci.model.jsontypes import JsonObject, JsonValue
from aqe_ci.model.limits import DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_INPUT_BYTES, Limits

DEFAULT_PATH = Path("config") / "storage.json"
SECRET_FIELDS = {
    ("s3", "access_key_id"),
    ("s3", "secret_access_key"),
    ("s3", "session_token"),
    ("github", "token"),
    ("github", "runtime_token"),
    ("gitlab", "token"),
}
SECRET_VAR = re.compile(r"(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|CREDENTIAL|_KEY$|^KEY$|ACCESS_KEY)", re.IGNORECASE)
#: a config key whose value is secret wherever it appears (``tokens``, ``api_token``, ``client_secret``, ...)
SECRET_NAME = re.compile(r"(token|secret|password|passwd|credential|private_key|access_key)", re.IGNORECASE)
VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")

DEFAULT_DAYS = 90
DEFAULT_KEEP_LATEST_N = 100
#: config name under ``retention`` → document type
RETENTION_TYPE_KEYS: dict[str, str] = {
    "test_results": "test_results",
    "coverage_reports": "coverage",
    "security_findings": "security",
}

DEFAULTS: JsonObject = {
    "backend": "local",
    "local": {"base_path": ".qe-artifacts/", "create_dirs": True},
    "retention": {
        "default_days": DEFAULT_DAYS,
        "test_results": 30,
        "coverage_reports": 90,
        "security_findings": 365,
        "keep_latest_n": DEFAULT_KEEP_LATEST_N,
    },
    "compression": {"enabled": True, "algorithm": DEFAULT_ALGORITHM, "level": DEFAULT_LEVEL},
    "limits": {"max_input_mb": DEFAULT_MAX_INPUT_BYTES // (1024 * 1024), "max_blob_kb": DEFAULT_MAX_BLOB_BYTES // 1024},
}


class _Fields:
    """Typed reads of one (schema-validated) config section; a wrong type names the JSON path."""

    def __init__(self, data: Mapping[str, JsonValue], path: str) -> None:
        self.data = data
        self.path = path

    def _bad(self, name: str, want: str) -> ConfigError:
        return ConfigError(f"{self.path}.{name}: expected {want}", hint="see `aqe artifacts schema config`")

    def opt_text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return value
        raise self._bad(name, "a string")

    def text(self, name: str, default: str) -> str:
        value = self.opt_text(name)
        return default if value is None else value

    def flag(self, name: str, default: bool) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        raise self._bad(name, "true or false")

    def opt_number(self, name: str) -> int | None:
        value = self.data.get(name)
        if value is None or (isinstance(value, int) and not isinstance(value, bool)):
            return value
        raise self._bad(name, "a whole number")

    def number(self, name: str, default: int) -> int:
        value = self.opt_number(name)
        return default if value is None else value

    def real(self, name: str, default: float) -> float:
        value = self.data.get(name)
        if value is None:
            return default
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        raise self._bad(name, "a number")

    def texts(self, name: str) -> tuple[str, ...] | None:
        value = self.data.get(name)
        if value is None:
            return None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return tuple(cast(list[str], value))
        raise self._bad(name, "a list of strings")


def _object(value: JsonValue, path: str) -> Mapping[str, JsonValue]:
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    raise ConfigError(f"{path}: expected an object", hint="see `aqe artifacts schema config`")


@dataclass(frozen=True, kw_only=True)
class LocalSettings:
    """``local``: the filesystem store."""

    base_path: str = ".qe-artifacts/"
    create_dirs: bool = True

    @classmethod
    def from_json(cls, value: JsonValue, path: str = "$.local") -> LocalSettings:
        f = _Fields(_object(value, path), path)
        return cls(base_path=f.text("base_path", cls.base_path) or cls.base_path,
                   create_dirs=f.flag("create_dirs", cls.create_dirs))


@dataclass(frozen=True, kw_only=True)
class S3Settings:
    """``s3``: AWS S3 or an S3-compatible server. Absent values are the defaults below."""

    bucket: str
    prefix: str = ""
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    endpoint_url: str | None = None
    use_ssl: bool = True
    verify_ssl: bool = True
    addressing_style: str = "auto"
    conditional_writes: str = "auto"
    multipart_threshold_mb: int = 16
    multipart_chunk_mb: int = 16
    max_concurrency: int = 4
    max_attempts: int = 5

    @classmethod
    def from_json(cls, value: JsonValue, path: str = "$.s3") -> S3Settings:
        f = _Fields(_object(value, path), path)
        return cls(
            bucket=f.text("bucket", ""), prefix=f.text("prefix", cls.prefix), region=f.opt_text("region"),
            access_key_id=f.opt_text("access_key_id"), secret_access_key=f.opt_text("secret_access_key"),
            session_token=f.opt_text("session_token"), profile=f.opt_text("profile"),
            endpoint_url=f.opt_text("endpoint_url"), use_ssl=f.flag("use_ssl", cls.use_ssl),
            verify_ssl=f.flag("verify_ssl", cls.verify_ssl),
            addressing_style=f.text("addressing_style", cls.addressing_style),
            conditional_writes=f.text("conditional_writes", cls.conditional_writes),
            multipart_threshold_mb=f.number("multipart_threshold_mb", cls.multipart_threshold_mb),
            multipart_chunk_mb=f.number("multipart_chunk_mb", cls.multipart_chunk_mb),
            max_concurrency=f.number("max_concurrency", cls.max_concurrency),
            max_attempts=f.number("max_attempts", cls.max_attempts),
        )


@dataclass(frozen=True, kw_only=True)
class GitHubSettings:
    """``github``: GitHub Actions artifact storage (docs/backends.md). None: the runner's variable
    fills it (``storage.github.from_settings``)."""

    token: str | None = field(default=None, repr=False)
    repository: str | None = None
    api_url: str | None = None
    retention_days: int | None = None
    results_url: str | None = None
    runtime_token: str | None = field(default=None, repr=False)
    prefix: str = "aqe"
    timeout_seconds: float = 60.0
    max_attempts: int = 4

    @classmethod
    def from_json(cls, value: JsonValue, path: str = "$.github") -> GitHubSettings:
        f = _Fields(_object(value, path), path)
        return cls(token=f.opt_text("token"), repository=f.opt_text("repository"), api_url=f.opt_text("api_url"),
                   retention_days=f.opt_number("retention_days"), results_url=f.opt_text("results_url"),
                   runtime_token=f.opt_text("runtime_token"), prefix=f.text("prefix", cls.prefix),
                   timeout_seconds=f.real("timeout_seconds", cls.timeout_seconds),
                   max_attempts=f.number("max_attempts", cls.max_attempts))


@dataclass(frozen=True, kw_only=True)
class GitLabSettings:
    """``gitlab``: GitLab's generic package registry."""

    token: str | None = field(default=None, repr=False)
    project: str | None = None
    api_url: str | None = None
    package_name: str | None = None
    timeout: float = 60.0
    max_attempts: int = 5
    verify_ssl: bool = True
    hide_index: bool = True

    @classmethod
    def from_json(cls, value: JsonValue, path: str = "$.gitlab") -> GitLabSettings:
        f = _Fields(_object(value, path), path)
        return cls(token=f.opt_text("token"), project=f.opt_text("project"), api_url=f.opt_text("api_url"),
                   package_name=f.opt_text("package_name"), timeout=f.real("timeout", 60.0),
                   max_attempts=f.number("max_attempts", 5), verify_ssl=f.flag("verify_ssl", True),
                   hide_index=f.flag("hide_index", True))


@dataclass(frozen=True, kw_only=True)
class RetentionSettings:
    """``retention``: days per document type, runs always kept, protected branches (docs/retention.md).

    A type without its own days uses ``default_days``; ``protected_branches`` None means "not configured"
    (the CI's default branch, else main and master), an empty tuple protects nothing.
    """

    default_days: int = DEFAULT_DAYS
    test_results: int | None = None
    coverage_reports: int | None = None
    security_findings: int | None = None
    keep_latest_n: int = DEFAULT_KEEP_LATEST_N
    protected_branches: tuple[str, ...] | None = None

    @classmethod
    def from_json(cls, value: JsonValue, path: str = "$.retention") -> RetentionSettings:
        f = _Fields(_object(value, path), path)
        return cls(default_days=f.number("default_days", DEFAULT_DAYS) or DEFAULT_DAYS,
                   test_results=f.opt_number("test_results"), coverage_reports=f.opt_number("coverage_reports"),
                   security_findings=f.opt_number("security_findings"),
                   keep_latest_n=f.number("keep_latest_n", DEFAULT_KEEP_LATEST_N),
                   protected_branches=f.texts("protected_branches"))

    def type_days(self) -> dict[str, int]:
        """Document type → days, for the types the config names."""
        named = {"test_results": self.test_results, "coverage_reports": self.coverage_reports,
                 "security_findings": self.security_findings}
        return {doc_type: days for name, doc_type in RETENTION_TYPE_KEYS.items()
                if (days := named[name]) is not None}

    def days_for(self, doc_type: str) -> int:
        """How long a document of ``doc_type`` is kept: the one implementation of the per-type rule."""
        return self.type_days().get(doc_type, self.default_days)


def _codec(value: JsonValue, source: str) -> Codec:
    f = _Fields(_object(value, "$.compression"), "$.compression")
    if not f.flag("enabled", True):
        return Codec(algorithm="none", level=1)
    algorithm = f.text("algorithm", DEFAULT_ALGORITHM)
    level = f.number("level", DEFAULT_LEVEL)
    problem = level_problem(algorithm, level)
    if problem:
        raise ConfigError(f"{source}: $.compression.level: {problem}")
    return Codec(algorithm=algorithm, level=level)


def _limits(value: JsonValue) -> Limits:
    f = _Fields(_object(value, "$.limits"), "$.limits")
    return Limits(max_input_bytes=f.number("max_input_mb", DEFAULT_MAX_INPUT_BYTES // (1024 * 1024)) * 1024 * 1024,
                  max_blob_bytes=f.number("max_blob_kb", DEFAULT_MAX_BLOB_BYTES // 1024) * 1024)


@dataclass(frozen=True, kw_only=True)
class Config:
    """The effective configuration: typed, frozen sections (``data`` keeps the JSON for ``config show``)."""

    source: str  # the file read, or "built-in defaults"
    backend: str
    local: LocalSettings
    s3: S3Settings | None  # None: no "s3" section
    github: GitHubSettings | None
    gitlab: GitLabSettings | None
    retention: RetentionSettings
    codec: Codec
    limits: Limits
    data: JsonObject = field(repr=False)  # defaults merged, ${VAR}s expanded
    secret_paths: frozenset[str] = frozenset()

    @classmethod
    def from_json(cls, data: JsonObject, *, source: str, secret_paths: frozenset[str] = frozenset()) -> Config:
        """Typed sections of an already expanded, validated and defaults-merged config."""
        def present(name: str) -> bool:
            return data.get(name) is not None

        return cls(
            source=source, backend=str(data.get("backend") or "local"),
            local=LocalSettings.from_json(data.get("local")),
            s3=S3Settings.from_json(data.get("s3")) if present("s3") else None,
            github=GitHubSettings.from_json(data.get("github")) if present("github") else None,
            gitlab=GitLabSettings.from_json(data.get("gitlab")) if present("gitlab") else None,
            retention=RetentionSettings.from_json(data.get("retention")),
            codec=_codec(data.get("compression"), source), limits=_limits(data.get("limits")),
            data=data, secret_paths=secret_paths)

    def section(self, name: str) -> dict[str, JsonValue]:
        """A section as JSON (for backends that take their settings whole, and ``config show``)."""
        return dict(_object(self.data.get(name), f"$.{name}"))

    def retention_days(self, doc_type: str) -> int:
        return self.retention.days_for(doc_type)

    def redacted(self) -> JsonObject:
        """The effective config with every secret replaced by ``***``."""
        out = copy.deepcopy(self.data)
        for path in self.secret_paths:
            parent, _, last = path.rpartition(".")
            node = _at(out, parent) if parent else out
            if isinstance(node, dict) and node.get(last) is not None and node.get(last) != "":
                node[last] = "***"  # whatever its type: a list or a number is hidden whole
        return out


def find_config_path(explicit: str | None, environ: Mapping[str, str]) -> Path | None:
    if explicit:
        return Path(explicit)
    env = environ.get("AQE_CONFIG")
    if env:
        return Path(env)
    return DEFAULT_PATH if DEFAULT_PATH.is_file() else None


def load_config(explicit: str | None = None, environ: Mapping[str, str] | None = None) -> Config:
    environ = os.environ if environ is None else environ
    path = find_config_path(explicit, environ)
    if path is None:
        return Config.from_json(copy.deepcopy(DEFAULTS), source="built-in defaults")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist",
                          hint="pass --config PATH or set AQE_CONFIG, or create config/storage.json") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read: {exc}") from None
    return parse_config(text, source=str(path), environ=environ)


def parse_config(text: str, *, source: str, environ: Mapping[str, str]) -> Config:
    try:
        raw = json.loads(strip_comments(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: line {exc.lineno} column {exc.colno}: invalid JSON ({exc.msg})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: $: the config must be a JSON object")
    secret_paths: set[str] = set()
    expanded = cast(JsonObject, _expand(raw, "$", source, environ, secret_paths))
    secret_paths.update(_secret_fields(expanded))
    # registered before anything can fail, whatever their type: errors and tracebacks show ***
    hidden = [_at(expanded, path) for path in secret_paths]
    for value in hidden:
        secrets.register_value(value)
    from aqe_ci.model.schema import first_error

    problem = first_error("config", expanded)
    if problem:
        raise ConfigError(f"{source}: {problem[0]}: {secrets.scrub(problem[1], hidden)}",
                          hint="see `aqe artifacts schema config`")
    return Config.from_json(_with_defaults(expanded), source=source, secret_paths=frozenset(secret_paths))


def _secret_fields(data: JsonValue, prefix: str = "") -> set[str]:
    """Paths of the secret fields present with a value of any type: the known ones (``s3.access_key_id``,
    ``s3.secret_access_key``, ``s3.session_token``, ``github.token``, ``gitlab.token``) and any key named
    like a secret (``...token``, ``...secret...``, ``password``, ``...access_key...``) at any depth."""
    found: set[str] = set()
    if not isinstance(data, dict):
        return found
    for key, value in data.items():
        path = f"{prefix}{key}"
        if value is None or value == "":
            continue
        if tuple(path.split(".")) in SECRET_FIELDS or SECRET_NAME.search(str(key)):
            found.add(path)
        elif isinstance(value, dict):
            found |= _secret_fields(value, f"{path}.")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                found |= _secret_fields(item, f"{path}[{i}].")
    found |= _webhook_urls(data) if not prefix else set()
    return found


def _webhook_urls(data: JsonObject) -> set[str]:
    """Webhook URLs are secrets too: chat webhook URLs carry their token in the path."""
    notify = data.get("notify")
    hooks = notify.get("webhooks") if isinstance(notify, dict) else None
    return {f"notify.webhooks[{i}].url" for i, hook in enumerate(hooks if isinstance(hooks, list) else [])
            if isinstance(hook, dict) and hook.get("url")}


def _at(data: JsonValue, path: str) -> JsonValue:
    """The value at ``path`` (``s3.access_key_id``, ``retention.protected_branches[0]``), else None."""
    node = data
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        else:
            node = node.get(name) if isinstance(node, dict) else None
    return node


def _with_defaults(data: JsonObject) -> JsonObject:
    out = copy.deepcopy(data)
    out.setdefault("backend", "local")
    for section in ("local", "retention", "compression", "limits"):
        merged = dict(_object(DEFAULTS[section], f"$.{section}"))
        merged.update(_object(out.get(section), f"$.{section}"))
        out[section] = merged
    return out


def _expand(node: JsonValue, path: str, source: str, environ: Mapping[str, str],
            secret_paths: set[str]) -> JsonValue:
    if isinstance(node, dict):
        return {k: _expand(v, f"{path}.{k}", source, environ, secret_paths) for k, v in node.items()}
    if isinstance(node, list):
        return [_expand(v, f"{path}[{i}]", source, environ, secret_paths) for i, v in enumerate(node)]
    if not isinstance(node, str) or "${" not in node:
        return node

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if SECRET_VAR.search(name):
            secret_paths.add(path[2:])
        value = environ.get(name)
        if value is None or value == "":
            if default is not None:
                return default
            raise ConfigError(f"{source}: {path}: environment variable ${{{name}}} is not set",
                              hint=f"export {name}, or write ${{{name}:-default}}")
        return value

    value = VAR.sub(repl, node)
    if value in ("null", "None") and VAR.fullmatch(node):
        return None
    return value


def strip_comments(text: str) -> str:
    """Remove ``#`` and ``//`` comments outside JSON strings; keep line numbers."""
    out: list[str] = []
    i, n = 0, len(text)
    in_str = False
    while i < n:
        ch = text[i]
        if in_str:
            out.append(ch)
            if ch == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if ch == '"':
                in_str = False
            i += 1
            continue
        if ch == '"':
            in_str = True
            out.append(ch)
            i += 1
            continue
        if ch == "#" or (ch == "/" and i + 1 < n and text[i + 1] == "/"):
            while i < n and text[i] != "\n":
                i += 1
            continue
        out.append(ch)
        i += 1
    stripped = "".join(out)
    # tolerate trailing commas left by removed comments: ",}" / ",]"
    return re.sub(r",(\s*[}\]])", r"\1", stripped)
