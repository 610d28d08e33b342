"""synth room of frontdoor."""
