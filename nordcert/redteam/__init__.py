"""Red-team test tracking: TIBER-EU tests and DORA threat-led penetration tests (TLPT) of the members."""
