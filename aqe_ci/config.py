"""Configuration: ``config/storage.json`` in the Artifact Storage Guide's format.

Lookup order: ``--config PATH`` (or ``AQE_CONFIG``), then ``./config/storage.json``, else built-in
defaults (the local backend under ``.qe-artifacts/``). ``${VAR}`` and ``${VAR:-default}`` in string
values come from the environment; an unset variable without default is an error naming the file, the
JSON path and the variable. ``#`` and ``//`` line comments are accepted (the guide's examples have
them). The file is validated against ``aqe_ci/schemas/config.schema.json``; errors name the file and
the JSON path. Secret values (keys, tokens, and anything that came from a variable whose name looks
secret) are registered with :mod:`aqe_ci.secrets` so no output can show them.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aqe_ci import secrets
from aqe_ci.errors import ConfigError

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

DEFAULTS: dict[str, Any] = {
    "backend": "local",
    "local": {"base_path": ".qe-artifacts/", "create_dirs": True},
    "retention": {
        "default_days": 90,
        "test_results": 30,
        "coverage_reports": 90,
        "security_findings": 365,
        "keep_latest_n": 100,
    },
    "compression": {"enabled": True, "algorithm": "gzip", "level": 6},
    "limits": {"max_input_mb": 1024, "max_blob_kb": 1024},
}


@dataclass(frozen=True, kw_only=True)
class Config:
    source: str  # the file read, or "built-in defaults"
    data: dict[str, Any] = field(repr=False)
    secret_paths: frozenset[str] = frozenset()

    @property
    def backend(self) -> str:
        return str(self.data.get("backend", "local"))

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name) or {}
        return dict(value)

    @property
    def retention(self) -> dict[str, Any]:
        return self.section("retention")

    def retention_days(self, doc_type: str) -> int:
        from aqe_ci.retention.policy import RetentionPolicy

        return RetentionPolicy.from_config(self.retention).days_for(doc_type)

    @property
    def codec(self) -> Any:
        from aqe_ci.storage.codec import Codec

        c = self.section("compression")
        if not c.get("enabled", True):
            return Codec(algorithm="none", level=1)
        algorithm = c.get("algorithm", "gzip")
        level = int(c.get("level", 6 if algorithm == "gzip" else 3))
        if algorithm == "gzip" and level > 9:
            raise ConfigError(f"{self.source}: $.compression.level: gzip levels are 1-9, got {level}")
        return Codec(algorithm=algorithm, level=level)

    @property
    def limits(self) -> Any:
        from aqe_ci.model.limits import Limits

        lim = self.section("limits")
        return Limits(max_input_bytes=int(lim.get("max_input_mb", 1024)) * 1024 * 1024,
                      max_blob_bytes=int(lim.get("max_blob_kb", 1024)) * 1024)

    def redacted(self) -> dict[str, Any]:
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
        return Config(source="built-in defaults", data=copy.deepcopy(DEFAULTS))
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
    expanded = _expand(raw, "$", source, environ, secret_paths)
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
    return Config(source=source, data=_with_defaults(expanded), secret_paths=frozenset(secret_paths))


def _secret_fields(data: Any, prefix: str = "") -> set[str]:
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


def _webhook_urls(data: dict[str, Any]) -> set[str]:
    """Webhook URLs are secrets too: chat webhook URLs carry their token in the path."""
    notify = data.get("notify")
    hooks = notify.get("webhooks") if isinstance(notify, dict) else None
    return {f"notify.webhooks[{i}].url" for i, hook in enumerate(hooks if isinstance(hooks, list) else [])
            if isinstance(hook, dict) and hook.get("url")}


def _at(data: Any, path: str) -> Any:
    """The value at ``path`` (``s3.access_key_id``, ``retention.protected_branches[0]``), else None."""
    node = data
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", path):
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        else:
            node = node.get(name) if isinstance(node, dict) else None
    return node


def _with_defaults(data: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(data)
    out.setdefault("backend", "local")
    for section in ("local", "retention", "compression", "limits"):
        merged = dict(DEFAULTS[section])
        merged.update(out.get(section) or {})
        out[section] = merged
    return out


def _expand(node: Any, path: str, source: str, environ: Mapping[str, str], secret_paths: set[str]) -> Any:
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
