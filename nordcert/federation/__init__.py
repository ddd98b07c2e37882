"""Federation of national instances: peers, what crosses to them, and the sync that carries it."""
