"""The payload codec setting: algorithm and level, with the one default and the one range check.

The config's ``compression`` section becomes a :class:`Codec` (``Config.codec``); the storage layer
compresses with it (``aqe_ci.storage.codec``). ``level`` defaults to 6 for every algorithm (gzip's
own default; a good zstd trade-off too) and is checked here only: gzip 1–9, zstd 1–22.
"""

from __future__ import annotations

from dataclasses import dataclass

from aqe_ci.errors import ConfigError

ALGORITHMS = ("gzip", "zstd", "none")
DEFAULT_ALGORITHM = "gzip"
DEFAULT_LEVEL = 6
LEVELS: dict[str, tuple[int, int]] = {"gzip": (1, 9), "zstd": (1, 22)}  # "none" has no level
EXTENSIONS = {"gzip": ".gz", "zstd": ".zst", "none": ""}


def level_problem(algorithm: str, level: int) -> str | None:
    """Why ``level`` is not valid for ``algorithm``, or None when it is."""
    if algorithm not in LEVELS:
        return None
    lo, hi = LEVELS[algorithm]
    return None if lo <= level <= hi else f"{algorithm} levels are {lo}-{hi}, got {level}"


@dataclass(frozen=True, kw_only=True)
class Codec:
    algorithm: str = DEFAULT_ALGORITHM
    level: int = DEFAULT_LEVEL

    def __post_init__(self) -> None:
        if self.algorithm not in EXTENSIONS:
            raise ConfigError(f"unknown compression algorithm {self.algorithm!r}", hint="use gzip, zstd or none")
        problem = level_problem(self.algorithm, self.level)
        if problem:
            lo, hi = LEVELS[self.algorithm]
            raise ConfigError(problem, hint=f"use {lo}..{hi}")

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.algorithm]
