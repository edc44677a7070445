"""Operational context: Alertmanager alerts, change events, service topology, suspect changes."""
