"""HTTP layer: thin routes over the domain, peers and state."""
