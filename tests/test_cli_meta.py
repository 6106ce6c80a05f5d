"""The CLI surface: fast start without heavy imports, documented exit codes, help examples."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from aqe_ci.errors import EXIT_CODES

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("boto3", "botocore", "github", "gitlab", "jsonschema", "lxml", "requests", "ijson", "zstandard")


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom aqe_ci.cli import main\n"
        "for args in (['--help'], ['artifacts', '--help'], ['artifacts', 'list', '--help']):\n"
        "    main(args)\n"
        "print('MODULES=' + ','.join(sorted({m.split('.')[0] for m in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    loaded = set(out.split("MODULES=")[1].strip().split(","))
    assert not loaded & set(HEAVY), loaded & set(HEAVY)


def test_readme_documents_every_exit_code() -> None:
    readme = (ROOT / "README.md").read_text()
    table = dict(re.findall(r"^\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|", readme, flags=re.M))
    for code in EXIT_CODES:
        assert str(code) in table, f"exit code {code} missing from README"


def test_every_command_has_help_examples() -> None:
    from test_secrets import all_command_paths  # type: ignore[import-not-found]

    for path in all_command_paths():
        out = subprocess.run([sys.executable, "-m", "aqe_ci", *path, "--help"], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert "Examples:" in out.stdout, f"aqe {' '.join(path)} --help has no examples"


def test_every_option_has_an_env_var(workdir: Path) -> None:
    """auto_envvar_prefix: AQE_<GROUP>_<COMMAND>_<OPTION> sets any option."""
    doc = workdir / "d.json"
    doc.write_text(json.dumps({"type": "security", "timestamp": "2025-11-12T10:00:00Z",
                               "data": {"vulnerabilities": [], "summary": {"critical": 0, "high": 0, "medium": 0}}}))
    env = {"AQE_ARTIFACTS_STORE_FILE": str(doc), "AQE_ARTIFACTS_STORE_KEY": "from-env",
           "AQE_ARTIFACTS_LIST_FORMAT": "json", "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "store"], env=env, cwd=workdir, check=True,
                   capture_output=True)
    out = subprocess.run([sys.executable, "-m", "aqe_ci", "artifacts", "list"], env=env, cwd=workdir,
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out)["artifacts"][0]["key"] == "from-env"


def test_store_and_execute_share_their_run_options(workdir: Path) -> None:
    """--key/--artifact-key, --part, --metadata, --tag and the context flags are one definition (cli/options.py):
    the same names, help and environment variables (each long name) on both commands."""
    from aqe_ci.cli.commands.execute import execute
    from aqe_ci.cli.commands.store import store

    def shared(cmd: object) -> dict[str, tuple[tuple[str, ...], str | None]]:
        params = cmd.params  # type: ignore[attr-defined]
        return {p.name: (tuple(p.opts), p.help) for p in params
                if p.name in ("key", "part", "metadata", "tag", "commit", "branch", "pr", "base_branch", "base_sha")}

    assert shared(store) == shared(execute) and len(shared(store)) == 9
    assert shared(store)["key"][0] == ("--key", "--artifact-key")
    doc = workdir / "d.json"
    doc.write_text(json.dumps({"type": "security", "timestamp": "2025-11-12T10:00:00Z",
                               "data": {"vulnerabilities": [], "summary": {"critical": 0, "high": 0, "medium": 0}}}))
    script = workdir / "t.py"
    script.write_text(f"import shutil, os\nshutil.copy({str(doc)!r}, os.environ['AQE_REPORTS_DIR'])\n")
    base = {"PATH": "/usr/bin:/bin", "AQE_ARTIFACTS_LIST_FORMAT": "json"}
    for env in ({"AQE_EXECUTE_KEY": "exec-key"}, {"AQE_EXECUTE_ARTIFACT_KEY": "exec-artifact-key"},
                {"AQE_ARTIFACTS_STORE_ARTIFACT_KEY": "store-artifact-key", "AQE_ARTIFACTS_STORE_FILE": str(doc)}):
        cmd = (["execute", "--store-artifacts", "--", sys.executable, str(script)] if "AQE_ARTIFACTS_STORE_FILE" not in env
               else ["artifacts", "store"])
        r = subprocess.run([sys.executable, "-m", "aqe_ci", *cmd], env={**base, **env}, cwd=workdir,
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        assert f"key: {next(iter(env.values()))}" in r.stdout
