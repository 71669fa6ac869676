"""qa.grammar: which schemas get a prefilled opening, and the grammar written for the rest."""

from __future__ import annotations

import json

import pytest

from qa.grammar import literal, prefill
from qa.grounding.reply import ANSWER_SCHEMA
from qa.grounding.verify import choice_schema


def test_the_answer_reply_opens_with_its_first_key() -> None:
    p = prefill(ANSWER_SCHEMA)
    assert p is not None and p.prefix == '{"answer": "'
    root = p.grammar.splitlines()[0]
    assert root.startswith('root ::= char{0,400} "\\""')  # maxLength holds after the opening too
    assert '"\\"sentence_ids\\""' in root and "{0,2}" in root  # maxItems 3: one, then at most two more
    assert all(f"\n{r} ::= " in p.grammar for r in ("space", "char", "integer"))


def test_an_enum_opening_lists_each_value_closed_by_its_quote() -> None:
    p = prefill(choice_schema(["2,350", 'a "q"', "Zürich"]))
    assert p is not None and p.prefix == '{"choice": "'
    root = p.grammar.splitlines()[0]
    assert '"2,350\\""' in root and '"none\\""' in root and '"Zürich\\""' in root
    assert literal('a \\"q\\""') in root  # the JSON escape of the quote, escaped again for GBNF


def test_whole_adds_the_opening_only_when_missing() -> None:
    p = prefill(ANSWER_SCHEMA)
    assert p is not None
    assert p.whole('x", "sentence_ids": []}') == '{"answer": "x", "sentence_ids": []}'
    assert p.whole('{"answer": "x", "sentence_ids": []}') == '{"answer": "x", "sentence_ids": []}'
    assert json.loads(p.whole('a \\"b\\"", "sentence_ids": [1, 2]}'))["answer"] == 'a "b"'


@pytest.mark.parametrize(
    "schema",
    [
        None,
        {"type": "array", "items": {"type": "string"}},
        {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]},  # first not text
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": []},  # optional key
        {  # a nested object is outside the subset: the schema is sent as it is
            "type": "object",
            "properties": {"a": {"type": "string"}, "b": {"type": "object"}},
            "required": ["a", "b"],
        },
    ],
)
def test_schemas_outside_the_subset_get_no_prefill(schema: dict | None) -> None:
    assert prefill(schema) is None
