"""Shared fixtures. Each area keeps its fixtures in its own plugin module under tests/."""

import os

# Nothing may reach a model hub, in tests as at run time.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

pytest_plugins = [
    "tests.fixtures_core",
    "tests.fixtures_llm",
    "tests.fixtures_ui",
]
