"""Storage: the backend-independent :class:`~aqe_ci.storage.store.Store` over pluggable backends."""
