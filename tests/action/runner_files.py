"""Read the runner's file commands the way actions/runner's FileCommandManager does.

``GITHUB_OUTPUT`` / ``GITHUB_ENV``: each entry is either ``name=value`` on one line or
``name<<DELIMITER`` followed by value lines up to a line that is exactly ``DELIMITER``; whichever of
``=`` and ``<<`` comes first on the line decides. A value that is never closed is an error.
"""

from __future__ import annotations

from pathlib import Path


def parse_file_command(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").split("\n")
    out: dict[str, str] = {}
    i = 0
    while i < len(lines):
        line = lines[i].rstrip("\r")
        i += 1
        if not line:
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            out[line[:eq]] = line[eq + 1:]
            continue
        if hd < 0:
            raise ValueError(f"invalid file command line {line!r}")
        name, delim = line[:hd], line[hd + 2:]
        value: list[str] = []
        while True:
            if i >= len(lines):
                raise ValueError(f"unterminated heredoc for {name!r}")
            current = lines[i].rstrip("\r")
            i += 1
            if current == delim:
                break
            value.append(current)
        out[name] = "\n".join(value)
    return out
