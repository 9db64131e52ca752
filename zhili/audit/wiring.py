"""Connects the chained store to the audit seam (filled in as the app grows)."""
