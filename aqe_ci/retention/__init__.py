"""Retention: which stored documents a cleanup removes (policy.py) and the crash-safe removal (cleanup.py)."""
