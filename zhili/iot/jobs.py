"""Periodic IoT jobs: device status, missing-data rules, escalation, retention."""
