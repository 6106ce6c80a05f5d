"""S3 lifecycle rules that enforce the retention config (``aqe artifacts lifecycle``).

Documents live under ``runs/<key>/<type>/...`` (the key comes first), so a type cannot be selected
by prefix. Instead the Store says what every object it writes is (``storage.base.ObjectMeta``) and
the S3 backend tags it with ``aqe-type`` (the document type) and ``aqe-kind`` (``doc``: manifest,
payload, blobs; ``index``: index entries; ``claim``: a write claim of the fallback protocol), and the
rules filter on those tags under the store's prefix:

* per type: index entries expire after the type's days, the document's own objects one day later,
  so a listing never shows an entry whose manifest has already gone;
* claims expire after 1 day (the protocol deletes them; this catches killed writers);
* incomplete multipart uploads are aborted 1 day after they started.

Lifecycle expiry is by age only: it does NOT honour ``keep_latest_n`` nor protected branches —
those are enforced by ``aqe artifacts cleanup``. Use lifecycle days at or above the cleanup days,
as a backstop (docs/storage-layout.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from aqe_ci.config import RetentionSettings
from aqe_ci.model.jsontypes import JsonValue
from aqe_ci.model.keys import DOC_TYPES
from aqe_ci.retention.policy import RetentionPolicy
from aqe_ci.storage.base import KIND_TAG, ObjectMeta

if TYPE_CHECKING:
    from aqe_ci.storage.s3 import S3Backend


def rule_id_prefix(prefix: str) -> str:
    return f"aqe:{prefix}:"


def _tag_filter(prefix: str, tags: Mapping[str, str]) -> dict[str, Any]:
    tag_list = [{"Key": k, "Value": v} for k, v in sorted(tags.items())]
    if len(tag_list) == 1 and not prefix:
        return {"Tag": tag_list[0]}
    body: dict[str, Any] = {"Tags": tag_list}
    if prefix:
        body = {"Prefix": prefix, **body}
    return {"And": body}


def lifecycle_configuration(retention: RetentionSettings | Mapping[str, JsonValue],
                            prefix: str = "") -> dict[str, Any]:
    """The ``LifecycleConfiguration`` for a store at ``prefix`` (as ``put-bucket-lifecycle-configuration`` takes
    it), from the ``retention`` config section (typed, or as JSON)."""
    prefix = prefix.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    idp = rule_id_prefix(prefix)
    policy = (RetentionPolicy.from_settings(retention) if isinstance(retention, RetentionSettings)
              else RetentionPolicy.from_config(retention))
    rules: list[dict[str, Any]] = []
    for doc_type in DOC_TYPES:
        days = policy.days_for(doc_type)
        rules.append({"ID": f"{idp}{doc_type}:index", "Status": "Enabled",
                      "Filter": _tag_filter(prefix, ObjectMeta(doc_type=doc_type, kind="index").tags()),
                      "Expiration": {"Days": days}})
        rules.append({"ID": f"{idp}{doc_type}:documents", "Status": "Enabled",
                      "Filter": _tag_filter(prefix, ObjectMeta(doc_type=doc_type, kind="doc").tags()),
                      "Expiration": {"Days": days + 1}})
    rules.append({"ID": f"{idp}claims", "Status": "Enabled",
                  "Filter": _tag_filter(prefix, {KIND_TAG: "claim"}), "Expiration": {"Days": 1}})
    rules.append({"ID": f"{idp}abort-incomplete-multipart-uploads", "Status": "Enabled",
                  "Filter": {"Prefix": prefix}, "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}})
    return {"Rules": rules}


def ours(rules: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    idp = rule_id_prefix(prefix)
    return [r for r in rules if str(r.get("ID", "")).startswith(idp)]


def read_rules(backend: S3Backend) -> list[dict[str, Any]]:
    """The bucket's lifecycle rules (all of them), [] when it has none."""
    resp = backend.call("GetBucketLifecycleConfiguration", backend.client.get_bucket_lifecycle_configuration,
                        absent={"NoSuchLifecycleConfiguration"}, Bucket=backend.bucket)
    return list(resp.get("Rules", [])) if resp is not None else []


def apply(backend: S3Backend, configuration: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Replace our rules in the bucket's lifecycle configuration, keeping everyone else's.

    Returns (our rules as read back from the server, number of other rules kept).
    """
    existing = read_rules(backend)
    idp = rule_id_prefix(backend.prefix)
    others = [r for r in existing if not str(r.get("ID", "")).startswith(idp)]
    merged = {"Rules": others + configuration["Rules"]}
    backend.call("PutBucketLifecycleConfiguration", backend.client.put_bucket_lifecycle_configuration, None,
                  Bucket=backend.bucket, LifecycleConfiguration=merged)
    return ours(read_rules(backend), backend.prefix), len(others)


def normalise(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rules in a comparable form (servers may add empty defaults or reorder tags)."""
    def clean(node: Any) -> Any:
        if isinstance(node, dict):
            out = {k: clean(v) for k, v in node.items() if v not in (None, {}, [])}
            if "Tags" in out:
                out["Tags"] = sorted(out["Tags"], key=lambda t: (t["Key"], t["Value"]))
            return out
        if isinstance(node, list):
            return [clean(v) for v in node]
        return node

    return sorted((clean(r) for r in rules), key=lambda r: r["ID"])
