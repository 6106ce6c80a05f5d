"""The model layer: keys, limits, schemas, summaries, merge rules and typed values every layer shares.

It imports nothing of aqe_ci but errors, secrets and accel."""
