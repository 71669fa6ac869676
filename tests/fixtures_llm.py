"""Fixtures for LLM access: the stub OpenAI-compatible server and the tiny real engine."""
