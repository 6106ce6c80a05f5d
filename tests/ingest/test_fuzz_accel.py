"""Differential fuzzing of the C accelerators against the pure-Python path, bounded for ``make test``
(about 25 s in all on two cores); ``make fuzz`` runs tests/ingest/fuzz_accel.py for longer with the
extensions built under AddressSanitizer and UBSan.

Every mutant of a corpus file (JUnit, Cobertura, SARIF logs) or of a SARIF result must give the same
outcome on both paths — the same document bytes, blobs and summary, or the same problem — and no
path may fail with anything but a report error. ``AQE_FUZZ_SEED`` picks other mutants.
"""

from __future__ import annotations

import os
import time

import pytest
from fuzz_accel import fuzz  # type: ignore[import-not-found]

from aqe_ci import accel

#: target → (seconds, at least, at most) mutants
BUDGET = {"junit": (8.0, 300, 3000), "cobertura": (5.0, 500, 4000), "sarif-scan": (4.0, 3000, 30000),
          "sarif": (5.0, 300, 3000), "surrogates": (2.0, 2000, 20000)}
SEED = int(os.environ.get("AQE_FUZZ_SEED", "20240517"))


@pytest.mark.parametrize("target", sorted(BUDGET))
def test_c_and_python_agree_on_mutants(target: str, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(accel.DISABLE_ENV, raising=False)
    assert all(accel.status().values()), f"an accelerator is not built: {accel.status()}"
    seconds, minimum, most = BUDGET[target]
    report = fuzz(target, most, time.monotonic() + seconds, SEED, out=None, minimum=minimum)
    assert report.mutants >= minimum
    if target != "surrogates":  # (there, "accepted" counts mutants that had a lone surrogate)
        assert report.accepted >= report.mutants // 20, "mutants should mostly stay readable"
    assert not report.mismatches, "\n".join(report.mismatches[:5])
