"""Renderings of a comparison: JSON, a plain-text table for logs, markdown for PR/MR comments."""
