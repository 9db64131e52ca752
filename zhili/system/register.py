"""Registrations of the system management models (filled in as the app grows)."""
