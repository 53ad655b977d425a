"""A store written by the previous release opens, upgrades itself and still works.

``tests/fixtures/stores/previous-release.sqlite`` was written by the release before versioned
migrations (see the README there), with what that release answered about it beside it in
``previous-release.json``: the upgraded store must answer the same, then keep harvesting.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import eduxchange
from eduxchange.core.errors import StoreError
from eduxchange.demo import write_config
from eduxchange.demo.members import serve_members
from eduxchange.publish.provider import Provider
from eduxchange.store.sqlite import SCHEMA_VERSION, ReadOnlySQLiteStore, SQLiteStore
from eduxchange.store.sqlite.schema import MIGRATIONS

FIXTURES = Path(__file__).parent / "fixtures" / "stores"
OAI = "{http://www.openarchives.org/OAI/2.0/}"
BASE = "http://127.0.0.1:8000/"
PREVIOUS_VERSION = 2  # what the previous release wrote into meta


@pytest.fixture()
def previous(tmp_path: Path) -> tuple[eduxchange.Config, dict[str, Any]]:
    shutil.copyfile(FIXTURES / "previous-release.sqlite", tmp_path / "catalog.sqlite")
    expected = json.loads((FIXTURES / "previous-release.json").read_text(encoding="utf-8"))
    config = eduxchange.core.config.parse_config(
        {"catalog": {"store": "catalog.sqlite", "base_uri": BASE},
         "feed": {"admin_email": "oai@example.org"}}, path=tmp_path / "alliance.toml")
    return config, expected


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("SELECT value FROM meta WHERE key = 'schema_version'"
                                ).fetchone()[0])


def _headers(provider: Provider) -> list[dict[str, Any]]:
    answer = etree.fromstring(provider.handle(
        {"verb": ["ListIdentifiers"], "metadataPrefix": ["oai_dc"]}, base_url=BASE + "oai"))
    return [{"identifier": h.findtext(f"{OAI}identifier"),
             "datestamp": h.findtext(f"{OAI}datestamp"),
             "sets": sorted(s.text or "" for s in h.findall(f"{OAI}setSpec")),
             "deleted": h.get("status") == "deleted"} for h in answer.iter(f"{OAI}header")]


def _answers_as_before(config: eduxchange.Config, store: Any, expected: dict[str, Any]) -> None:
    for member_id, want in expected["members"].items():
        state = store.member_state(member_id)
        assert (state.state, state.metadata_prefix, state.next_from) == (
            want["state"], want["metadata_prefix"], want["next_from"]), member_id
        assert store.counts(member_id) == want["counts"], member_id
    assert len(store.runs()) == expected["runs"]
    assert store.resource_counts() == expected["resources"]
    provider = Provider(config, store)
    assert _headers(provider) == expected["oai_dc_headers"]
    assert store.oai_sets() == expected["sets"]
    got = expected["get_record"]
    record = etree.fromstring(provider.handle(
        {"verb": ["GetRecord"], "identifier": [got["identifier"]], "metadataPrefix": ["oai_dc"]},
        base_url=BASE + "oai")).find(f".//{OAI}metadata")
    assert record is not None
    assert etree.tostring(record[0], encoding="unicode", with_tail=False) == got["metadata"]


def test_the_fixture_is_of_the_previous_schema() -> None:
    assert _version(FIXTURES / "previous-release.sqlite") == PREVIOUS_VERSION < SCHEMA_VERSION
    assert SCHEMA_VERSION == len(MIGRATIONS)


def test_served_read_only_before_any_upgrade(
        previous: tuple[eduxchange.Config, dict[str, Any]]) -> None:
    config, expected = previous
    with ReadOnlySQLiteStore(config.catalog.store) as store:
        _answers_as_before(config, store, expected)
    assert _version(config.catalog.store) == PREVIOUS_VERSION  # a reader migrates nothing


def test_opened_for_writing_it_upgrades_and_answers_as_before(
        previous: tuple[eduxchange.Config, dict[str, Any]]) -> None:
    config, expected = previous
    with SQLiteStore(config.catalog.store) as store:
        _answers_as_before(config, store, expected)
        assert [r.identifier for r in store.iter_records()][:1]  # raw records still there
        assert all(r.raw for r in store.iter_records(include_deleted=False))
    assert _version(config.catalog.store) == SCHEMA_VERSION


def test_the_upgraded_schema_is_a_new_store_s(
        previous: tuple[eduxchange.Config, dict[str, Any]], tmp_path: Path) -> None:
    config, _ = previous
    SQLiteStore(config.catalog.store).close()
    SQLiteStore(tmp_path / "new.sqlite").close()

    def shape(path: Path) -> dict[str, set[str]]:
        with sqlite3.connect(path) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'index')")]
            return {name: {r[1] for r in conn.execute(f"PRAGMA table_info('{name}')")}
                    for name in names}

    assert shape(config.catalog.store) == shape(tmp_path / "new.sqlite")


def test_the_upgraded_store_keeps_harvesting(tmp_path: Path) -> None:
    shutil.copyfile(FIXTURES / "previous-release.sqlite", tmp_path / "catalog.sqlite")
    expected = json.loads((FIXTURES / "previous-release.json").read_text(encoding="utf-8"))
    with serve_members() as members:
        config = eduxchange.load_config(write_config(tmp_path / "alliance.toml", members,
                                                     base_uri=BASE))
        results = eduxchange.harvest(config, members=list(expected["members"]))
    assert [r.state for r in results] == ["ok"] * len(results)
    with SQLiteStore(config.catalog.store) as store:
        for member_id, want in expected["members"].items():
            assert store.counts(member_id)["records"] == want["counts"]["records"], member_id
        assert store.resource_counts() == expected["resources"]
        assert len(store.runs()) == expected["runs"] + len(results)


def test_a_store_of_a_newer_release_is_refused(tmp_path: Path) -> None:
    SQLiteStore(tmp_path / "catalog.sqlite").close()
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'",
                     (str(SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this release"):
        SQLiteStore(tmp_path / "catalog.sqlite")


def test_an_interrupted_first_open_of_release_2_still_upgrades(tmp_path: Path) -> None:
    # Release 2 created its tables, then wrote schema_version: a file killed in between has
    # every table of release 2 and no version.
    shutil.copyfile(FIXTURES / "previous-release.sqlite", tmp_path / "catalog.sqlite")
    with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:
        conn.execute("DELETE FROM meta WHERE key = 'schema_version'")
    with SQLiteStore(tmp_path / "catalog.sqlite") as store:
        assert store.resource_counts()["resources"] > 0
    assert _version(tmp_path / "catalog.sqlite") == SCHEMA_VERSION
