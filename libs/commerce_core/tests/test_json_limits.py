import json

import pytest

from commerce_core.web.json_limits import JsonTooDeep, loads, nesting_depth_exceeds


def test_ordinary_json_parses_as_usual():
    assert loads('{"items": [{"product_id": 1, "quantity": 2}]}') == {"items": [{"product_id": 1, "quantity": 2}]}


def test_json_nested_deeper_than_the_limit_is_refused_without_recursing():
    text = "[" * 200_000 + "]" * 200_000
    with pytest.raises(JsonTooDeep):
        loads(text)


def test_the_limit_counts_nesting_not_the_number_of_brackets():
    flat = json.dumps([[i] for i in range(1000)])
    assert loads(flat)[999] == [999]
    assert nesting_depth_exceeds("[" * 5 + "]" * 5, limit=4)
    assert not nesting_depth_exceeds("[" * 4 + "]" * 4, limit=4)


def test_brackets_inside_strings_do_not_count_even_after_escaped_quotes():
    text = json.dumps({"comment": '[[[[[[ \\" {{{{{{ \\\\' + "[" * 100})
    assert loads(text, max_depth=2)["comment"].endswith("[" * 100)


def test_a_string_ending_in_an_escaped_backslash_closes_normally():
    text = '["a\\\\", ' + "[" * 3 + "]" * 3 + "]"
    assert not nesting_depth_exceeds(text, limit=4)
    assert nesting_depth_exceeds(text, limit=3)


def test_json_too_deep_is_a_value_error_like_any_malformed_json():
    assert issubclass(JsonTooDeep, ValueError)
