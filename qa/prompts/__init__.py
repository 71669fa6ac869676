"""Prompt templates: ``.txt`` files shipped inside this package (``prompts/`` at the top is a link here).

Loaded through ``importlib.resources``, so an installed wheel finds them as a checkout does.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """The text of ``<name>.txt``; cached, since templates don't change while a process runs."""
    path = resources.files(__name__) / f"{name}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"prompt template {name}.txt is missing from qa/prompts: reinstall qa")
    return path.read_text(encoding="utf-8").strip()


def render(name: str, **values: str) -> str:
    """Fill named ``{placeholders}``; a missing value is an error rather than a silent blank."""
    return load(name).format(**values)
