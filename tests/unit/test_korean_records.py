"""KLUE's JSON-array release files and NSMC's empty documents, at the records level."""

from __future__ import annotations

import json

import pytest

from bertlab.data.labeled_texts import drop_empty, read_texts
from bertlab.data.records import read_table
from bertlab.errors import DataError
from tests.conftest import FIXTURE_DATA


def test_json_array_records_keep_their_position_for_errors(tmp_path):
    table = read_table(FIXTURE_DATA / "klue" / "klue-nli-v1.1" / "klue-nli-v1.1_dev.json")
    assert len(table.records) == 3 and {"premise", "hypothesis", "gold_label"} <= set(table.columns)
    assert table.where(2).endswith("klue-nli-v1.1_dev.json:3")
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"data": []}))
    with pytest.raises(DataError, match="expected a JSON array of records, found dict"):
        read_table(bad)
    bad.write_text(json.dumps([{"a": 1}, 2]))
    with pytest.raises(DataError, match="record 2 is a int"):
        read_table(bad)


def test_nsmc_empty_documents_dropped_with_their_lines_or_read_as_empty():
    table = read_table(FIXTURE_DATA / "nsmc" / "ratings_train.txt", format="tsv", quoting=False)
    kept, dropped = drop_empty(table, ["document"])
    assert dropped == 2 and len(kept.records) == len(table.records) - 2
    assert kept.lines[4] == 7  # line 6 (the 5th record, empty) is gone: the header is line 1
    texts = read_texts(table, ["document"], allow_empty=True)
    assert texts[4] == ("",) and texts[8] == ('"최악" 이라는 말밖에 안 나옴',)  # quotes are text
    with pytest.raises(DataError, match="ratings_train.txt:6: field 'document' must be a non-empty text"):
        read_texts(table, ["document"])
