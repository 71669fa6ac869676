"""qa.grounding.reply: the streamed answer field and the parsing of the model's JSON."""

import json

import pytest

from qa.grounding.reply import AnswerFieldStream, parse_field, parse_model_output, says_unknown, strip_markers


def test_answer_field_stream_decodes_across_arbitrary_chunk_boundaries():
    raw = json.dumps({"answer": 'More than "32,000" soldiers\u2014and \\ more', "sentence_ids": [2]})
    for size in (1, 2, 3, 7):
        s = AnswerFieldStream()
        out = "".join(s.feed(raw[i : i + size]) for i in range(0, len(raw), size))
        assert out == 'More than "32,000" soldiers\u2014and \\ more'
        assert s.done


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"answer": "Norway", "sentence_ids": [1, "2", "x"]}', ("Norway", [1, 2])),
        ('```json\n{"answer": "Norway", "sentence_ids": []}\n```', ("Norway", [])),
        ('Sure! {"answer": "Norway", "sentence_ids": [3]}', ("Norway", [3])),
        ("I think it is Norway", None),
        ('{"answer": 3, "sentence_ids": []}', None),
        ("[1, 2]", None),
    ],
)
def test_parse_model_output(raw, expected):
    assert parse_model_output(raw) == expected


def test_parse_field_of_small_replies():
    assert parse_field('{"verdict": "yes"}', "verdict") == "yes"
    assert parse_field('{"verdict": 1}', "verdict") is None
    assert parse_field("no json", "verdict") is None


def test_markers_and_unknown():
    assert strip_markers("Norway [1] and Germany [2].") == "Norway and Germany."
    assert says_unknown("The articles do not mention the winner.")
    assert not says_unknown("Norway won.")
