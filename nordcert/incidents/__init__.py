"""DORA-shaped ICT incidents: classification as major, report deadlines, and the reports themselves."""
