"""The stored form of records (store/base.canonical_json): orjson's text is the standard
library's, byte for byte, for everything a record can hold, so stores written before and
after it agree on which records changed, and both backends keep the same text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduxchange.store.base import canonical_json, parse_json
from tests.support import real_corpus
from tests.support.standards import standards_dir


def _reference(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


# What a record holds: strings (any code point but lone surrogates, which no stored text
# can hold), booleans, nulls, lists and objects; integers for good measure.
_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | _text,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(_text, inner, max_size=5),
    max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(_values)
def test_the_stored_form_is_the_standard_librarys_text(value: Any) -> None:
    text = canonical_json(value)
    assert text == _reference(value)
    assert parse_json(text) == value
    assert parse_json(text.encode("utf-8")) == value


@pytest.mark.parametrize("char", [chr(c) for c in (*range(0x20), 0x7f, 0x85, 0x2028, 0x2029,
                                                   0xfeff, 0x1f600, 0x10ffff)])
def test_control_and_special_characters(char: str) -> None:
    value = {f"{char}k": [f"a{char}b", char]}
    assert canonical_json(value) == _reference(value)


def test_what_orjson_refuses_is_written_by_the_standard_library() -> None:
    for value in ({1: "a", 2: "b"}, {"big": 2**70}):
        assert canonical_json(value) == _reference(value)
    assert parse_json('{"x": NaN}')["x"] != parse_json('{"x": NaN}')["x"]  # NaN, as json reads it


def test_every_real_record_is_stored_as_before() -> None:
    folder = standards_dir()
    if folder is None:
        pytest.skip("the standards folder (../shared/standards) is absent: no real records")
    seen = 0
    for relative in real_corpus.source_files(folder):
        for record in real_corpus.records(folder, relative):
            described = real_corpus.describe_record(record)
            if described.description is not None:
                assert canonical_json(described.description) == _reference(
                    described.description), relative
                seen += 1
    assert seen > 1000
