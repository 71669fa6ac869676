"""Prompt templates live as files in prompts/; this module loads and fills them."""

from __future__ import annotations

from functools import cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


@cache
def load(name: str) -> str:
    """Read ``prompts/<name>.txt``; cached, since templates don't change while a process runs."""
    path = PROMPTS_DIR / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {path} is missing: reinstall qa or restore prompts/")
    return path.read_text(encoding="utf-8").strip()


def render(name: str, **values: str) -> str:
    """Fill named ``{placeholders}``; a missing value is an error rather than a silent blank."""
    return load(name).format(**values)
