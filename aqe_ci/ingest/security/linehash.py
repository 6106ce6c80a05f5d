"""CodeQL's ``primaryLocationLineHash``, computed the way github/codeql-action does.

The algorithm (codeql-action ``src/fingerprints.ts``, re-implemented here from its description):
a rolling polynomial hash (base 37, 64-bit wrap-around) over a window of the next 100 characters
of the file, where spaces and tabs are dropped and CR / CRLF become LF; an EOF marker (65535)
and 100 NULs end the input. The hash reported for line N is the value once the window starts at
the first kept character of line N; identical hashes are numbered ``hash:1``, ``hash:2`` … in file
order. Characters are UTF-16 code units, as JavaScript strings see them.
"""

from __future__ import annotations

BLOCK_SIZE = 100
MOD = 37
MASK = (1 << 64) - 1
EOF = 65535
_FIRST_MOD = pow(MOD, BLOCK_SIZE, 1 << 64)


def _utf16_units(text: str) -> list[int]:
    data = text.encode("utf-16-le", "surrogatepass")
    return [data[i] | (data[i + 1] << 8) for i in range(0, len(data), 2)]


def line_hashes(text: str) -> dict[int, str]:
    """{line number (1-based): "hexhash:occurrence"} for every line of ``text``."""
    window = [0] * BLOCK_SIZE
    line_numbers = [-1] * BLOCK_SIZE
    out: dict[int, str] = {}
    counts: dict[str, int] = {}
    state = {"hash": 0, "index": 0, "line": 0, "line_start": True, "prev_cr": False}

    def output() -> None:
        value = format(state["hash"], "x")
        counts[value] = counts.get(value, 0) + 1
        out[line_numbers[state["index"]]] = f"{value}:{counts[value]}"
        line_numbers[state["index"]] = -1

    def update(current: int) -> None:
        i = state["index"]
        begin = window[i]
        window[i] = current
        state["hash"] = (MOD * state["hash"] + current - _FIRST_MOD * begin) & MASK
        state["index"] = (i + 1) % BLOCK_SIZE

    def process(current: int) -> None:
        if current in (0x20, 0x09) or (state["prev_cr"] and current == 0x0A):
            state["prev_cr"] = False
            return
        if current == 0x0D:
            current = 0x0A
            state["prev_cr"] = True
        else:
            state["prev_cr"] = False
        if line_numbers[state["index"]] != -1:
            output()
        if state["line_start"]:
            state["line_start"] = False
            state["line"] += 1
            line_numbers[state["index"]] = state["line"]
        if current == 0x0A:
            state["line_start"] = True
        update(current)

    for unit in _utf16_units(text):
        process(unit)
    process(EOF)
    for _ in range(BLOCK_SIZE):
        if line_numbers[state["index"]] != -1:
            output()
        update(0)
    return out
