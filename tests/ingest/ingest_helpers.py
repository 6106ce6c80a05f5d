from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CORPUS = Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
TIMESTAMP = "2024-05-17T09:30:00Z"


def inventory() -> list[dict[str, Any]]:
    return json.loads((CORPUS / "INVENTORY.json").read_text(encoding="utf-8"))


def ingest_one(path: Path, workdir: Path, **kwargs: Any) -> Any:
    from aqe_ci.ingest.driver import ingest_files

    return ingest_files([path], workdir=workdir, timestamp=TIMESTAMP, **kwargs)


def load_doc(result: Any, doc_type: str = "test_results") -> dict[str, Any]:
    return json.loads(result.documents[doc_type].path.read_text(encoding="utf-8"))
