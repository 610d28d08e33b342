"""review room of frontdoor."""
