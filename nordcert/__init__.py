"""nordcert: threat-intelligence sharing and operational resilience for a financial-sector CERT."""

__version__ = "0.1.0"
