"""Use cases and the composition root: config in, real clients built once, passed down (DESIGN "Layers")."""
