"""The ingest layer: raw report files in, validated normalised documents out (see driver.py)."""
