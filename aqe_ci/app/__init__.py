"""Use cases, outside click: what a command does once its options are parsed."""
