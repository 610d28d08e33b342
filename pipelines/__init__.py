"""pipelines room of frontdoor."""
