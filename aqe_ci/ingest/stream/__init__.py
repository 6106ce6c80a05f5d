"""Streaming readers shared by the parsers: how report bytes are opened and read.

- :mod:`.opener`: :func:`~aqe_ci.ingest.stream.opener.open_report`, the one way parsers open a
  report (UTF-16/UTF-32 transcoded to UTF-8, lone surrogate escapes in JSON replaced), and the
  per-file notes that become ``sources[].warnings``;
- :mod:`.encoding`: byte-order marks and encoding sniffing, the streaming transcoder;
- :mod:`.surrogates`: the streaming filter for JSON ``\\ud800``-style lone surrogate escapes;
- :mod:`.jsonhead`: the top-level keys of a JSON report, for content detection;
- :mod:`.safexml`, :mod:`.safeexpat`: hardened XML (lxml, expat); :mod:`.jsonstream`: JSON
  streaming; :mod:`.xmlhead`: XML root sniffing.
"""
