"""The audit trail: who did what, when; append-only, read by CERT staff."""
