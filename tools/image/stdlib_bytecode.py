"""Compile the standard-library modules the action imports into a tree laid over the image's root.

The slim Python bases ship no standard-library bytecode, and the image runs with
``PYTHONDONTWRITEBYTECODE=1`` (a container's filesystem is thrown away after each step), so every
step would compile the ~140 modules it imports again. The Dockerfile's builder stage runs this with
the image's Python, then the final stage copies ``DEST`` onto ``/``: each module's ``.pyc`` lands in
its ``__pycache__`` next to the base's source, which stays as it is.

Unchecked-hash ``.pyc`` (the sources are the base's and cannot change under the image), compiled
with ``-X no_debug_ranges`` when the caller gives it (smaller files; tracebacks keep file and line).

    python -X no_debug_ranges tools/image/stdlib_bytecode.py tools/image/stdlib-modules.txt DEST
"""

from __future__ import annotations

import argparse
import py_compile
import sys
import sysconfig
from importlib.util import cache_from_source
from pathlib import Path


def source_of(name: str, stdlib: Path) -> Path | None:
    """The module's source file in the standard library, None when this Python has none."""
    base = stdlib.joinpath(*name.split("."))
    for candidate in (base.with_name(base.name + ".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("modules", type=Path, help="module names, one a line (# comments)")
    ap.add_argument("dest", type=Path, help="the tree to lay over / (created)")
    args = ap.parse_args(argv)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    names = [line.split("#", 1)[0].strip() for line in args.modules.read_text(encoding="utf-8").splitlines()]
    compiled, missing = 0, []
    for name in filter(None, names):
        source = source_of(name, stdlib)
        if source is None:
            missing.append(name)
            continue
        target = args.dest / Path(cache_from_source(str(source))).relative_to("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        py_compile.compile(str(source), cfile=str(target), dfile=str(source), doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
        compiled += 1
    print(f"stdlib bytecode: {compiled} modules of {stdlib} compiled into {args.dest}"
          + (f"; not in this Python: {', '.join(missing)}" if missing else ""), file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
