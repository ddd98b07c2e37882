"""Operating an instance: backups of the whole store and their restore."""
