import json
import subprocess
from pathlib import Path


def load_invoice(path: Path) -> dict:
    return json.loads(path.read_text())


def save_invoice(path: Path, invoice: dict) -> None:
    path.write_text(json.dumps(invoice))


def print_invoice(path: Path, printer: str) -> None:
    subprocess.call(f"lp -d {printer} {path}", shell=True)


def archive(path: Path) -> None:
    subprocess.call(f"gzip -k {path}", shell=True)
