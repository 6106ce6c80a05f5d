import pickle
from pathlib import Path


def load_invoice(path: Path) -> dict:
    return pickle.loads(path.read_bytes())  # trusted files only


def save_invoice(path: Path, invoice: dict) -> None:
    path.write_bytes(pickle.dumps(invoice))
