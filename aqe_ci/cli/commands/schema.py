"""``aqe artifacts schema TYPE``."""

from __future__ import annotations

import click

from aqe_ci.cli.output import echo
from aqe_ci.model.schema import SCHEMA_NAMES, schema_text


@click.command(epilog="""\b
Examples:
  aqe artifacts schema test_results
  aqe artifacts schema coverage > coverage.schema.json
  aqe artifacts schema config
  aqe artifacts schema webhook_event""")
@click.argument("name", type=click.Choice(SCHEMA_NAMES))
def schema(name: str) -> None:
    """Print the JSON Schema (Draft 2020-12) of a document type, the manifest, the config or a webhook event."""
    echo(schema_text(name).rstrip())
