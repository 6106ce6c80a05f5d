"""``aqe artifacts ingest``: show the normalised document(s) of raw reports without storing them."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import click

from aqe_ci.cli.output import echo
from aqe_ci.errors import InvalidInputError
from aqe_ci.model.keys import DOC_TYPES

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime


@click.command(epilog="""\b
Examples:
  aqe artifacts ingest target/surefire-reports/TEST-*.xml
  aqe artifacts ingest 'reports/**/*.xml' --output results.json
  aqe artifacts ingest report.trx --format trx --type test_results

\b
Prints one document as JSON; when the files make several document types (say JUnit and
SARIF), prints one object keyed by type ({"test_results": {...}, "security": {...}}).
--output writes the same JSON to a file and captured texts too big to stay inline to
<output>.blobs/. Problems go to stderr, one line per file; exit 7 if any file failed
(the other files are still processed and printed).""")
@click.argument("files", nargs=-1, required=True, metavar="FILE...")
@click.option("--format", "fmt", default="auto", show_default=True, metavar="NAME",
              help="Report format: auto (detect by content) or a format name, e.g. junit, nunit, trx, cobertura, lcov, sarif.")
@click.option("--type", "doc_type", type=click.Choice(DOC_TYPES),
              help="Only this document type; files of another type are reported as problems.")
@click.option("--output", "-o", "output", type=click.Path(dir_okay=False, writable=True), metavar="PATH",
              help="Write the JSON here instead of stdout.")
@click.pass_obj
def ingest(runtime: Runtime | None, /, files: tuple[str, ...], fmt: str, doc_type: str | None, output: str | None) -> None:
    """Parse raw test, coverage and security reports into normalised documents (nothing is stored)."""
    from aqe_ci.ingest.driver import expand_globs, ingest_files
    from aqe_ci.model.limits import Limits

    paths = expand_globs(files)
    limits = runtime.config.limits if runtime is not None else Limits()
    with tempfile.TemporaryDirectory(prefix="aqe-ingest-") as tmp:
        result = ingest_files(paths, fmt=fmt, limits=limits, workdir=Path(tmp))
        problems = [p.one_line() for p in result.problems]
        docs = dict(result.documents)
        if doc_type is not None:
            for t in [t for t in docs if t != doc_type]:
                for s in docs.pop(t).sources:
                    problems.append(f"{s.file}: is a {t} report ({s.format}), not {doc_type}")
        for line in problems:
            echo(f"Error: {line}", err=True)
        if docs:
            if output:
                with open(output, "w", encoding="utf-8") as out:
                    _write(docs, out)
                _copy_blobs(docs, Path(output))
            else:
                stream = sys.stdout
                _write(docs, _Redacting(stream))
                n = sum(len(d.blobs) for d in docs.values())
                if n:
                    echo(f"note: {n} captured text(s) exceed the inline limit; the document shows previews "
                         "(use --output to keep the full texts)", err=True)
    if problems:
        raise InvalidInputError(f"{len(problems)} of {len(paths)} file(s) could not be ingested",
                                hint="see the lines above")


class _Redacting:
    """Write through secret redaction, line by line (items are one per line in our documents)."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def write(self, text: str) -> None:
        from aqe_ci import secrets

        self.stream.write(secrets.redact(text))


def _write(docs: dict[str, Any], out: Any) -> None:
    if len(docs) == 1:
        (doc,) = docs.values()
        _copy_document(doc.path, out)
        out.write("\n")
        return
    out.write("{")
    for i, (t, doc) in enumerate(sorted(docs.items())):
        out.write(("," if i else "") + "\n" + json.dumps(t) + ":")
        _copy_document(doc.path, out)
    out.write("\n}\n")


def _copy_document(path: Path, out: Any) -> None:
    with open(path, encoding="utf-8") as f:
        for line in f:
            out.write(line.rstrip("\n") + ("\n" if line.endswith("\n") else ""))


def _copy_blobs(docs: dict[str, Any], output: Path) -> None:
    blobs = {name: p for d in docs.values() for name, p in d.blobs.items()}
    if not blobs:
        return
    target = output.with_name(output.name + ".blobs")
    target.mkdir(exist_ok=True)
    for name, p in blobs.items():
        shutil.copyfile(p, target / name)
