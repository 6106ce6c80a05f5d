"""The application layer: use cases over real clients, built once and passed down (no click inside)."""
