"""The compiled accelerators are built where ``make test`` runs, and the switch that turns them off works."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from aqe_ci import accel


def test_every_accelerator_is_built_here() -> None:
    # make test installs with a C compiler present (CI included): a silently skipped build would
    # leave every accelerated path untested and every benchmark figure wrong.
    missing = [name for name, ok in accel.status().items() if not ok]
    assert missing == [], f"not built: {missing} (pip install -e . with gcc and the Python headers)"


def test_pure_python_switch_disables_every_accelerator() -> None:
    code = ("from aqe_ci import accel; import sys; "
            "sys.exit(any(accel.load(n) is not None for n in accel.EXTENSIONS))")
    env = {**os.environ, accel.DISABLE_ENV: "1"}
    assert subprocess.run([sys.executable, "-c", code], env=env).returncode == 0


def test_unknown_accelerator_is_a_programming_error() -> None:
    with pytest.raises(KeyError):
        accel.load("aqe_ci.nope")


def test_version_says_which_accelerators_run() -> None:
    from click.testing import CliRunner

    from aqe_ci.cli.app import root

    out = CliRunner().invoke(root, ["--version"], env={accel.DISABLE_ENV: ""})
    assert out.exit_code == 0
    for name in accel.EXTENSIONS:
        assert name.rsplit("._", 1)[-1].removesuffix("_c") in out.output
    off = CliRunner().invoke(root, ["--version"], env={accel.DISABLE_ENV: "1"})
    assert off.exit_code == 0 and f"off: {accel.DISABLE_ENV} is set" in off.output
