"""Fixtures for ingestion, index and retrieval (owned by the core)."""
