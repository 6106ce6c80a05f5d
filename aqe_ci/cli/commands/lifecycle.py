"""``aqe artifacts lifecycle``: the S3 lifecycle configuration that enforces the retention config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from aqe_ci.cli.output import echo
from aqe_ci.errors import BackendError, UsageError

if TYPE_CHECKING:
    from aqe_ci.cli.runtime import Runtime


@click.command(epilog="""\b
Examples:
  aqe artifacts lifecycle --output lifecycle.json
  aws s3api put-bucket-lifecycle-configuration --bucket my-qe-artifacts \\
      --lifecycle-configuration file://lifecycle.json
  aqe artifacts lifecycle --apply

Expiry by lifecycle is by age only: keep_latest_n and protected branches are enforced by
`aqe artifacts cleanup`, so keep lifecycle days at or above the cleanup days (a backstop).""")
@click.option("--output", "output", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the configuration to FILE instead of stdout.")
@click.option("--apply", "apply_", is_flag=True,
              help="Put the rules on the bucket (keeps rules that are not ours) and check them by reading back.")
@click.pass_obj
def lifecycle(runtime: Runtime, /, output: Path | None, apply_: bool) -> None:
    """Print (or apply) the S3 lifecycle rules for the retention config: per-type expiry by object tag
    under the store's prefix, and abort incomplete multipart uploads after 1 day."""
    from aqe_ci.retention import lifecycle as lc

    cfg = runtime.config
    if cfg.backend != "s3" and not cfg.section("s3"):
        raise UsageError(f"lifecycle rules need an S3 store, but {cfg.source} uses the {cfg.backend!r} backend",
                         hint='set "backend": "s3" and an "s3" section')
    prefix = (cfg.s3.prefix if cfg.s3 else "").strip("/")
    prefix = f"{prefix}/" if prefix else ""
    configuration = lc.lifecycle_configuration(cfg.retention, prefix)
    text = json.dumps(configuration, indent=2)
    if output is not None:
        try:
            output.write_text(text + "\n", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot write {output}: {exc.strerror}") from None
        echo(f"wrote {len(configuration['Rules'])} lifecycle rules to {output}", err=True)
    elif not apply_:
        echo(text)
    if apply_:
        if cfg.backend != "s3":
            raise UsageError("--apply needs the s3 backend", hint='set "backend": "s3"')
        from aqe_ci.storage.s3 import S3Backend

        backend = runtime.store.backend
        assert isinstance(backend, S3Backend)  # the config's backend is s3 (checked above)
        applied, kept = lc.apply(backend, configuration)
        if lc.normalise(applied) != lc.normalise(configuration["Rules"]):
            raise BackendError(f"the lifecycle rules read back from bucket {backend.bucket} differ from the ones put",
                               hint="the server may not support tag filters; print them with --output and apply by hand")
        echo(f"applied {len(applied)} lifecycle rules to s3://{backend.bucket}/{prefix} "
             f"(kept {kept} other rule(s))", err=True)
