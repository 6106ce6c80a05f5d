"""Regenerate aqe_ci/render/badge_widths.json: advance widths of DejaVu Sans, the font badges are measured in.

Badges (aqe_ci/render/badge.py) size each half of the badge from these widths and pin the rendered
text to them with ``textLength``, so a badge looks the same in every viewer whatever fonts it has.
DejaVu Sans is Debian's default sans-serif (package fonts-dejavu-core) and has Verdana-like widths.

    python tools/gen_badge_widths.py [/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf]

Needs fontTools (``pip install fonttools``); the package itself never imports it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

RANGES = [(0x20, 0x52F), (0x1E00, 0x1EFF), (0x2000, 0x2BFF)]
OUT = Path(__file__).resolve().parents[1] / "aqe_ci" / "render" / "badge_widths.json"


def main(font_path: str) -> None:
    font = TTFont(font_path)
    cmap = font.getBestCmap()
    hmtx = font["hmtx"]
    upem = font["head"].unitsPerEm
    runs: list[list[object]] = []
    for lo, hi in RANGES:
        start, widths = None, []
        for cp in range(lo, hi + 1):
            glyph = cmap.get(cp)
            if glyph is None:
                if start is not None:
                    runs.append([start, widths])
                    start, widths = None, []
                continue
            if start is None:
                start = cp
            widths.append(hmtx[glyph][0])
        if start is not None:
            runs.append([start, widths])
    data = {"font": "DejaVu Sans", "units_per_em": upem, "runs": runs}
    OUT.write_text(json.dumps(data, separators=(",", ":")) + "\n")
    print(f"wrote {OUT} ({sum(len(r[1]) for r in runs)} code points)")  # type: ignore[arg-type]


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
