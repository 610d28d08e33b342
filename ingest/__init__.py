"""ingest room of frontdoor."""
