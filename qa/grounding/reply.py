"""The model's reply: its JSON schema, the streamed ``answer`` field, and parsing of the whole object."""

from __future__ import annotations

import contextlib
import json
import re
from typing import Any

ANSWER_SCHEMA: dict[str, Any] = {
    "title": "answer",
    "type": "object",
    "properties": {
        "answer": {"type": "string", "maxLength": 400},
        "sentence_ids": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
    },
    "required": ["answer", "sentence_ids"],
    "additionalProperties": False,
}

_MARKER = re.compile(r"\s*\[\d+\]")
_UNKNOWN = re.compile(
    r"\b(do(es)? not (say|mention|state|specify|provide)|not (mentioned|stated|specified|provided)|"
    r"no information|cannot (be )?(answer|determine)|unknown|not available)\b",
    re.I,
)


class AnswerFieldStream:
    """Incrementally decodes the string value of ``"answer"`` from partial JSON text."""

    _KEY = re.compile(r'"answer"\s*:\s*"')

    def __init__(self) -> None:
        self.buffer = ""
        self.pos: int | None = None  # index in buffer of the next undecoded character of the value
        self.done = False

    def feed(self, chunk: str) -> str:
        self.buffer += chunk
        if self.done:
            return ""
        if self.pos is None:
            m = self._KEY.search(self.buffer)
            if not m:
                return ""
            self.pos = m.end()
        out: list[str] = []
        i = self.pos
        buf = self.buffer
        while i < len(buf):
            ch = buf[i]
            if ch == '"':
                self.done = True
                i += 1
                break
            if ch == "\\":
                if i + 1 >= len(buf):
                    break
                esc = buf[i + 1]
                if esc == "u":
                    if i + 6 > len(buf):
                        break
                    with contextlib.suppress(ValueError):
                        out.append(chr(int(buf[i + 2 : i + 6], 16)))
                    i += 6
                    continue
                out.append({"n": "\n", "t": "\t", "r": "", "b": "", "f": ""}.get(esc, esc))
                i += 2
                continue
            out.append(ch)
            i += 1
        self.pos = i
        return "".join(out)


def _json_object(text: str) -> dict[str, Any] | None:
    text = text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        m = re.search(r"\{.*\}", text, re.S)
        if not m:
            return None
        try:
            data = json.loads(m.group(0))
        except json.JSONDecodeError:
            return None
    return data if isinstance(data, dict) else None


def parse_model_output(text: str) -> tuple[str, list[int]] | None:
    """Parse ``{"answer", "sentence_ids"}``; None when the output is not that object."""
    data = _json_object(text)
    if data is None:
        return None
    answer = data.get("answer", "")
    ids = data.get("sentence_ids", [])
    if not isinstance(answer, str) or not isinstance(ids, list):
        return None
    clean_ids = []
    for i in ids:
        try:
            clean_ids.append(int(i))
        except (TypeError, ValueError):
            continue
    return answer.strip(), clean_ids


def parse_field(text: str, field: str) -> str | None:
    """One string field of a small JSON reply (verdict, extracted answer); None when malformed."""
    data = _json_object(text)
    value = data.get(field) if data else None
    return value.strip() if isinstance(value, str) else None


def strip_markers(text: str) -> str:
    return _MARKER.sub("", text)


def says_unknown(text: str) -> bool:
    """The model's own way of declining ("The articles do not mention…")."""
    return bool(_UNKNOWN.search(text))
