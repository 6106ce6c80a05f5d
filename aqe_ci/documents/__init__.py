"""Normalised documents (the three types of the Artifact Storage Guide)."""
