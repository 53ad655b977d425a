"""Raw records are kept zstd-compressed and come back byte for byte (issue 10: disk per record).

The store keeps what a member sent for provenance and re-normalization, so "exactly as
received" is the contract: whatever the bytes (a BOM, CRLF line ends, a declared encoding
other than UTF-8, bytes that are no valid UTF-8 at all, one byte, a megabyte), reading them
back gives the same bytes. A store written before compression (plain ``raw``) still reads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eduxchange.core.models import Header, RawRecord
from eduxchange.store.sqlite import SQLiteStore

SAMPLES = [
    b"<record><metadata><lom xmlns='http://ltsc.ieee.org/xsd/LOM'/></metadata></record>",
    "\ufeff<record>\r\n  <title>Fraktionen \u00fcben</title>\r\n</record>".encode(),
    "<?xml version='1.0' encoding='ISO-8859-1'?><record>\u00e9l\u00e8ve</record>".encode("latin-1"),
    b"\xff\xfe\x00<not utf-8 \x80\x81>",
    b"x",
    b"<record>" + b"<keyword>fractions</keyword>" * 40_000 + b"</record>",  # about a megabyte
]


def _store_and_read(path: Path, raws: list[bytes]) -> list[bytes]:
    with SQLiteStore(path) as store:
        run = store.begin_run("m", mode="full", metadata_prefix="lom", from_=None)
        records = [RawRecord(header=Header(identifier=f"oai:m:{i}", datestamp="2024-01-01"),
                             raw=raw) for i, raw in enumerate(raws)]
        store.commit_page("m", run, "lom", records, [], None)
        by_id = {r.identifier: r.raw for r in store.iter_records("m")}
    return [by_id[f"oai:m:{i}"] or b"" for i in range(len(raws))]


def test_raw_records_come_back_byte_for_byte(tmp_path: Path) -> None:
    assert _store_and_read(tmp_path / "c.sqlite", SAMPLES) == SAMPLES


def test_raw_records_are_stored_compressed(tmp_path: Path) -> None:
    _store_and_read(tmp_path / "c.sqlite", SAMPLES)
    with sqlite3.connect(tmp_path / "c.sqlite") as conn:
        plain, packed = conn.execute(
            "SELECT raw, length(raw_z) FROM records WHERE identifier = 'oai:m:5'").fetchone()
    assert plain is None and packed < len(SAMPLES[5]) / 100


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=5000), min_size=1, max_size=5))
def test_any_bytes_round_trip(tmp_path_factory: pytest.TempPathFactory,
                              raws: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("z") / "c.sqlite"
    assert _store_and_read(path, raws) == raws


def test_a_record_stored_before_compression_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    _store_and_read(path, [b"<new/>", b"<old/>"])
    with sqlite3.connect(path) as conn:  # as a store of schema 2 left it: plain raw
        conn.execute("UPDATE records SET raw = CAST('<old/>' AS BLOB), raw_z = NULL "
                     "WHERE identifier = 'oai:m:1'")
    with SQLiteStore(path) as store:
        assert [r.raw for r in store.iter_records("m")] == [b"<new/>", b"<old/>"]


# -- dictionaries (a store's own: .connection.Codec) ---------------------------------------------

def _lom(i: int) -> bytes:
    return (f"<record><header><identifier>oai:m:{i}</identifier></header><metadata>"
            f"<lom xmlns='http://ltsc.ieee.org/xsd/LOM'><general><title><string language='de'>"
            f"Bruchrechnen {i}</string></title><keyword><string>Mathematik</string></keyword>"
            f"</general><rights><copyrightAndOtherRestrictions><value>yes</value>"
            f"</copyrightAndOtherRestrictions></rights></lom></metadata></record>").encode()


def _commit(store: SQLiteStore, raws: list[bytes], start: int = 0) -> None:
    run = store.begin_run("m", mode="full", metadata_prefix="lom", from_=None)
    records = [RawRecord(header=Header(identifier=f"oai:m:{start + i}", datestamp="2024-01-01"),
                         raw=raw) for i, raw in enumerate(raws)]
    store.commit_page("m", run, "lom", records, [], None)


def test_a_dictionary_is_trained_on_the_first_records_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    raws = [_lom(i) for i in range(400)]
    with SQLiteStore(path) as store:
        store._codec.samples = 100
        _commit(store, raws[:100])  # gathered: compressed without a dictionary
        _commit(store, raws[100:], start=100)  # the next transaction trains it first
    with sqlite3.connect(path) as conn:
        kinds = conn.execute("SELECT id, kind FROM zstd_dicts").fetchall()
        sizes = dict(conn.execute("SELECT identifier, length(raw_z) FROM records"))
    assert [k for _, k in kinds] == ["raw"] and kinds[0][0] >= 32768
    assert sizes["oai:m:300"] < sizes["oai:m:50"] / 2
    with SQLiteStore(path) as store:  # another process: reads the dictionary from the store
        assert [r.raw for r in store.iter_records("m")] == raws


def test_a_dictionary_of_a_rolled_back_transaction_is_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite"
    with SQLiteStore(path) as store:
        store._codec.samples = 50
        _commit(store, [_lom(i) for i in range(50)])
        with pytest.raises(RuntimeError), store._write():
            raise RuntimeError("the transaction that trained it fails")
        _commit(store, [_lom(i) for i in range(50, 60)], start=50)  # no dictionary any more
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT COUNT(*) FROM zstd_dicts").fetchone()[0] == 0
        assert len(list(store.iter_records("m"))) == 60
