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
