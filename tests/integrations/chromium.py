"""Headless Chromium (Debian's package) run on a local file: the DOM after the page's scripts ran.

No driver: ``chromium --headless --dump-dom`` loads the page, runs its scripts and prints the DOM.
The flags keep Chromium off the network (this machine has none, and tests must not try).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio"]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "chromium is needed (make test installs Debian's chromium package)"
    return path


def dump_dom(page: Path, *, timeout: float = 60.0) -> str:
    with tempfile.TemporaryDirectory(prefix="aqe-chromium-") as profile:
        proc = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.as_uri()],
                              capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def screenshot(page: Path, out: Path, *, size: str = "800,300", timeout: float = 60.0) -> None:
    with tempfile.TemporaryDirectory(prefix="aqe-chromium-") as profile:
        proc = subprocess.run([chromium(), *FLAGS, f"--user-data-dir={profile}", f"--window-size={size}",
                               f"--screenshot={out}", page.as_uri()],
                              capture_output=True, text=True, timeout=timeout, check=False)
    assert proc.returncode == 0 and out.is_file(), proc.stderr[-2000:]
