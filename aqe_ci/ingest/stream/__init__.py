"""Streaming readers shared by the parsers: hardened XML (expat/lxml), JSON streaming, XML root sniffing."""
