"""Formats in and out: STIX bundles, MISP events and feeds, CSV, plain-text blocklists.

Every import turns its input into STIX 2.1 objects and hands them to ``nordcert.intel.ingest``;
every export reads only what the caller may see, through ``nordcert.sharing.policy``.
"""
