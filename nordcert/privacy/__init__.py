"""Fraud data is personal data: blinded values, legal basis and retention, data-subject requests."""
