"""Polis gateway: the one public HTTP surface (REST API under /api/v1 and the dashboard)."""
