"""Smoke test of a built image's entrypoint, without a container runtime (``make image`` runs it).

``podman run`` / ``docker run`` may not work where the image is built (no engine, no user
namespaces), so the image's filesystem is exported and its entrypoint is run with ``chroot`` — the
process sees the image's Python, packages and git, and the runner's mounts (``/github/workspace``,
``/github/workflow/event.json``, ``/github/file_commands/...``) as the runner lays them out, with the
environment translated to those container paths. Two steps run against the fake GitHub on
127.0.0.1: a push to main (stores the baseline) and a pull request (stores, compares against the
merge-base run found with the image's git, comments). Exit 0 when the comment was posted and the
outputs are right, and the steps compiled no module: they run without the image's
PYTHONDONTWRITEBYTECODE, so a module the image ships no bytecode for leaves a new ``.pyc`` in the
exported filesystem (for the standard library's, add it to tools/image/stdlib-modules.txt).

    python tools/image/smoke.py IMAGE [--engine podman]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.action.runner_env import Runner, git, payload  # noqa: E402
from tests.servers.fake_github import BOT, FakeGitHub  # noqa: E402

TOKEN = "ghs_" + "ImageSmokeCanary" * 2
REPO = "acme/widgets"


def export(engine: str, image: str, dest: Path) -> None:
    cid = subprocess.run([engine, "create", image], check=True, capture_output=True, text=True).stdout.strip()
    try:
        with subprocess.Popen([engine, "export", cid], stdout=subprocess.PIPE) as proc:
            assert proc.stdout is not None
            with tarfile.open(fileobj=proc.stdout, mode="r|") as tar:
                tar.extractall(dest, filter="fully_trusted")  # our own image
        if proc.returncode:
            raise SystemExit(f"{engine} export failed ({proc.returncode})")
    finally:
        subprocess.run([engine, "rm", cid], check=False, capture_output=True)


def entrypoint_of(engine: str, image: str) -> tuple[list[str], dict[str, str]]:
    import json

    out = subprocess.run([engine, "image", "inspect", image], check=True, capture_output=True, text=True).stdout
    config = json.loads(out)[0].get("Config") or {}
    return list(config.get("Entrypoint") or []), dict(e.split("=", 1) for e in config.get("Env") or [])


def container_layout(rootfs: Path) -> Runner:
    """The runner's host directories inside the image's filesystem, mounted at /github/* by symlinks."""
    runner = Runner(rootfs / "_runner", api_url="", token=TOKEN)
    links = {"workspace": runner.workspace, "workflow": runner.temp / "_github_workflow",
             "file_commands": runner.temp / "_runner_file_commands", "home": runner.temp / "_github_home",
             "runner_temp": runner.temp}
    (rootfs / "github").mkdir(exist_ok=True)
    for name, host in links.items():
        (rootfs / "github" / name).symlink_to("/" + str(host.relative_to(rootfs)))
    return runner


def translate(env: dict[str, str], runner: Runner, rootfs: Path) -> dict[str, str]:
    """Rewrite values under the mounted host directories to their container paths (TranslateToContainerPath)."""
    mounts = [(runner.temp / "_runner_file_commands", "/github/file_commands"),
              (runner.temp / "_github_workflow", "/github/workflow"), (runner.temp / "_github_home", "/github/home"),
              (runner.workspace, "/github/workspace"), (runner.temp, "/github/runner_temp")]
    out = {}
    for k, v in env.items():
        for host, inside in mounts:
            if v == str(host) or v.startswith(str(host) + "/"):
                v = inside + v[len(str(host)):]
                break
        out[k] = v
    return out


def bytecode(rootfs: Path) -> set[Path]:
    """Every ``.pyc`` of the image's filesystem (the runner's directories aside)."""
    return {p for p in rootfs.rglob("*.pyc") if p.parts[len(rootfs.parts)] not in ("_runner", "github")}


def compiled_sources(rootfs: Path, before: set[Path]) -> list[str]:
    """The image's paths of the modules whose bytecode the steps wrote: compiled from source at run time."""
    from importlib.util import source_from_cache

    out = []
    for pyc in sorted(bytecode(rootfs) - before):
        inside = "/" + str(pyc.relative_to(rootfs))
        try:
            out.append(source_from_cache(inside))
        except ValueError:
            out.append(inside)
    return out


def step(rootfs: Path, runner: Runner, env: dict[str, str], entrypoint: list[str], image_env: dict[str, str]):  # type: ignore[no-untyped-def]
    inside = translate(env, runner, rootfs)
    # without the image's PYTHONDONTWRITEBYTECODE: a module compiled from source then shows as a new .pyc
    inside.pop("PYTHONDONTWRITEBYTECODE", None)
    inside["PATH"] = image_env.get("PATH", inside["PATH"])
    for k in ("GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0", "LANG", "PYTHONUNBUFFERED"):
        if k in image_env:
            inside[k] = image_env[k]
    # env -C, not a shell's cd: dash drops variables whose names are not identifiers (INPUT_GITHUB-TOKEN)
    cmd = ["chroot", str(rootfs), "/usr/bin/env", "-i", "-C", "/github/workspace",
           *[f"{k}={v}" for k, v in inside.items()], *entrypoint]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    from tests.action.runner_files import parse_file_command

    return proc, parse_file_command(Path(env["GITHUB_OUTPUT"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("image")
    ap.add_argument("--engine", default=shutil.which("podman") or shutil.which("docker") or "podman")
    args = ap.parse_args()
    if os.geteuid() != 0:
        raise SystemExit("the smoke test uses chroot: run it as root")
    entrypoint, image_env = entrypoint_of(args.engine, args.image)
    with tempfile.TemporaryDirectory(prefix="aqe-smoke-") as tmp, FakeGitHub() as gh:
        rootfs = Path(tmp) / "rootfs"
        rootfs.mkdir()
        export(args.engine, args.image, rootfs)
        shipped = bytecode(rootfs)
        runner = container_layout(rootfs)
        runner.api_url = gh.url
        gh.add_token(TOKEN, BOT)
        ws = runner.workspace
        git(ws, "init", "-q", "-b", "main")
        shutil.copytree(ROOT / "examples" / "reports" / "base", ws / "reports")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "base")
        base = git(ws, "rev-parse", "HEAD")
        git(ws, "checkout", "-qb", "feature")
        shutil.rmtree(ws / "reports")
        shutil.copytree(ROOT / "examples" / "reports" / "pr", ws / "reports")
        git(ws, "commit", "-qam", "pr")
        head = git(ws, "rev-parse", "HEAD")
        gh.add_pull(REPO, 42, head, head_ref="feature", base_sha=base)
        files = {"files": "reports/junit.xml\nreports/coverage.xml\nreports/bandit.json"}

        env = runner.environment("push", payload("push", HEAD_SHA=base), sha=base, ref="refs/heads/main", inputs=files)
        proc, outputs = step(rootfs, runner, env, entrypoint, image_env)
        print(proc.stdout + proc.stderr)
        if proc.returncode != 0:
            print(f"smoke: the push step exited {proc.returncode}", file=sys.stderr)
            return 1
        ev = payload("pull_request", HEAD_SHA=head, BASE_SHA=base, HEAD_REF="feature")
        env = runner.environment("pull_request", ev, sha="f" * 40, ref="refs/pull/42/merge", head_ref="feature",
                                 base_ref="main", inputs=files)
        proc, outputs = step(rootfs, runner, env, entrypoint, image_env)
        print(proc.stdout + proc.stderr)
        comments = gh.comments(REPO, 42)
        problems = []
        compiled = compiled_sources(rootfs, shipped)
        if compiled:
            problems.append(f"the steps compiled {len(compiled)} modules the image has no bytecode of (standard "
                            f"library: add them to tools/image/stdlib-modules.txt): {', '.join(compiled)}")
        if proc.returncode != 0:
            problems.append(f"the pull request step exited {proc.returncode}")
        if len(comments) != 1:
            problems.append(f"{len(comments)} comments were posted, expected 1")
        if "merge-base" not in (proc.stdout or ""):
            problems.append("the baseline was not found by merge-base (git in the image?)")
        if outputs.get("comment-id") != (str(comments[0].id) if comments else None):
            problems.append(f"outputs: {outputs}")
        if TOKEN in proc.stdout.replace(f"::add-mask::{TOKEN}", "") + proc.stderr:
            problems.append("the token was printed")
        version = subprocess.run(["chroot", str(rootfs), "/opt/aqe/bin/aqe", "--version"], capture_output=True,
                                 text=True, check=False)
        print(version.stdout.strip())
        if "C accelerators: none" in version.stdout or version.returncode:
            problems.append("the C accelerators are not in use")
    for p in problems:
        print(f"smoke: {p}", file=sys.stderr)
    print("smoke: ok" if not problems else "smoke: FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
