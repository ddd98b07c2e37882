"""The sector's resilience baseline: the controls catalogue, self-assessment campaigns, the benchmark and feedback."""
