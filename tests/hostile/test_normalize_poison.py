"""Item 7: one poison record must not stop normalization of its member or of any other.

Poison records (deep JSON, deep XML, a huge text, a lone surrogate, a character no XML writer
takes) are served among good ones by a loopback member; ``eduxchange normalize --all`` (the
real CLI) must quarantine each of them with the reason and the raw bytes, normalize every good
record of that member and of the members after it, and run again without failing.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

import eduxchange
from eduxchange.catalog.normalization import MAX_RECORD_BYTES
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.hostile_normalize import POISON, lom_records, lrmi_xml, poison_records
from tests.support.records import MemberRecord

GOOD = 6  # good records of the poisoned member, half before and half after the poison


def _normalize(config_path: Path) -> tuple[int, list[dict[str, object]]]:
    result = CliRunner().invoke(main, ["normalize", "-c", str(config_path), "--all", "--json"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.exit_code, json.loads(result.stdout)["results"]


def test_poison_records_are_quarantined_and_normalization_goes_on(tmp_path: Path) -> None:
    good = lom_records(range(1, GOOD + 1))
    records = good[:GOOD // 2] + poison_records() + good[GOOD // 2:]
    # "a" holds the poison; "b" is normalized after it (members go by id).
    with serve_faulty(records, page_size=4) as poisoned, \
            serve_faulty(lom_records(range(50, 54))) as later:
        config_path = write_config(tmp_path / "alliance.toml", [
            {"id": "a", "endpoint": poisoned.url, "metadata_prefix": "lom"},
            {"id": "b", "endpoint": later.url, "metadata_prefix": "lom"}])
        harvested = CliRunner().invoke(main, ["harvest", "-c", str(config_path),
                                              "--no-normalize", "--json"])
        assert harvested.exit_code == 0, harvested.output

        code, results = _normalize(config_path)
        assert code == 0
        by_member = {r["member"]: r for r in results}
        # deep XML never reaches normalization: the harvest quarantined it already.
        assert by_member["a"]["created"] == GOOD
        assert by_member["a"]["quarantined"] == len(POISON) - 1
        assert by_member["b"]["created"] == 4 and by_member["b"]["quarantined"] == 0

        config = eduxchange.load_config(config_path)
        entries = {q.identifier: q for q in eduxchange.quarantine_entries(config, "a")}
        for kind, (metadata, says) in POISON.items():
            entry = entries[f"oai:poison:{kind}"]
            assert says in entry.reason, (kind, entry.reason)
            assert entry.stage == ("harvest" if kind == "deep-xml" else "normalize")
            assert entry.raw is not None and metadata[-200:] in entry.raw  # the bytes are kept
            assert len(entry.reason) <= 4000
        assert len(entries["oai:poison:huge-text"].raw or b"") > MAX_RECORD_BYTES
        assert eduxchange.catalogue_counts(config) == {"resources": GOOD + 4, "deleted": 0}

        # Every later run goes through too, and changes nothing.
        code, again = _normalize(config_path)
        assert code == 0
        assert [(r["created"], r["updated"], r["quarantined"]) for r in again] == [
            (0, 0, len(POISON) - 1), (0, 0, 0)]
        assert eduxchange.catalogue_counts(config) == {"resources": GOOD + 4, "deleted": 0}
        still = [q for q in eduxchange.quarantine_entries(config, "a") if q.stage == "normalize"]
        assert len(still) == len(POISON) - 1  # one entry per record, not one per run


def test_poison_does_not_stop_the_harvest_normalizing_as_it_goes(tmp_path: Path) -> None:
    records = lom_records(range(1, 4)) + poison_records()
    with serve_faulty(records) as poisoned, serve_faulty(lom_records(range(50, 53))) as later:
        config_path = write_config(tmp_path / "alliance.toml", [
            {"id": "a", "endpoint": poisoned.url, "metadata_prefix": "lom"},
            {"id": "b", "endpoint": later.url, "metadata_prefix": "lom"}])
        result = CliRunner().invoke(main, ["harvest", "-c", str(config_path), "--json"])
        assert result.exit_code == 0, result.output
        outcome = {r["member"]: r["normalization"] for r in json.loads(result.stdout)["results"]}
        assert "error" not in outcome["a"] and "error" not in outcome["b"]
        assert outcome["a"]["created"] == 3 and outcome["a"]["quarantined"] == len(POISON) - 1
        assert outcome["b"]["created"] == 3


def test_a_poison_record_joining_a_good_resource_leaves_it_intact(tmp_path: Path) -> None:
    """The record that fails while its resource is rebuilt is rolled back alone: the good
    description of the same resource (another member's) stays as it was."""
    good = lom_records(range(1, 3))
    url = "https://oer.example.org/resources/000001"  # the same resource as good[0]
    metadata = ('{"@context": "https://schema.org/", "@type": "LearningResource", '
                f'"name": "bad \\uffff text", "url": "{url}"}}')
    poison = MemberRecord(identifier="oai:poison:join", datestamp=good[0].datestamp,
                          metadata=lrmi_xml(metadata))
    with serve_faulty(good) as first, serve_faulty([poison]) as second:
        config_path = write_config(tmp_path / "alliance.toml", [
            {"id": "a", "endpoint": first.url, "metadata_prefix": "lom"},
            {"id": "b", "endpoint": second.url, "metadata_prefix": "lom"}])
        assert CliRunner().invoke(main, ["harvest", "-c", str(config_path), "-q"]).exit_code == 0
        config = eduxchange.load_config(config_path)
        with eduxchange.open_store(config) as store:
            records = {r.record["url"]: r.record for r in store.iter_resources()}
        assert len(records) == 2
        assert [p["identifier"] for p in records[url]["mainEntityOfPage"]] == [
            good[0].identifier]
        [entry] = eduxchange.quarantine_entries(config, "b")
        assert "cannot merge or write" in entry.reason and entry.identifier == "oai:poison:join"


@contextmanager
def _harvested_and_refusing_a(tmp_path: Path) -> Iterator[Path]:
    """Members "a" and "b" (3 LOM records each) on loopback, harvested without normalizing into
    ``tmp_path``; the store then refuses "a"'s normalization progress (a trigger in the real
    SQLite file, as a broken disk would). Yields the config's path while the members serve."""
    with serve_faulty(lom_records(range(1, 4))) as first, \
            serve_faulty(lom_records(range(50, 53))) as second:
        config_path = write_config(tmp_path / "alliance.toml", [
            {"id": "a", "endpoint": first.url, "metadata_prefix": "lom"},
            {"id": "b", "endpoint": second.url, "metadata_prefix": "lom"}])
        harvested = CliRunner().invoke(main, ["harvest", "-c", str(config_path),
                                              "--no-normalize", "-q"])
        assert harvested.exit_code == 0, harvested.output
        with sqlite3.connect(tmp_path / "catalog.sqlite") as conn:
            conn.execute("CREATE TRIGGER refuse_a BEFORE UPDATE OF normalized_seq ON members "
                         "WHEN NEW.id = 'a' BEGIN SELECT RAISE(ABORT, 'the disk says no'); END")
        yield config_path


def test_a_member_whose_normalization_fails_does_not_stop_the_others(tmp_path: Path) -> None:
    """The store refuses member "a"'s progress (a trigger in the real SQLite file, as a
    broken disk would): "a" fails with the reason, exit code 1, "b" after it is normalized;
    once the store is repaired the next run normalizes "a", nothing lost."""
    with _harvested_and_refusing_a(tmp_path) as config_path:
        result = CliRunner().invoke(main, ["normalize", "-c", str(config_path), "--json"])
    store_path = tmp_path / "catalog.sqlite"
    assert result.exit_code == 1, result.output
    by_member = {r["member"]: r for r in json.loads(result.stdout)["results"]}
    assert "the disk says no" in str(by_member["a"]["error"])
    assert by_member["b"]["created"] == 3 and "error" not in by_member["b"]
    config = eduxchange.load_config(config_path)
    assert eduxchange.catalogue_counts(config)["resources"] == 3
    assert eduxchange.quarantine_entries(config, "a") == []  # a store failure blames no record

    with sqlite3.connect(store_path) as conn:
        conn.execute("DROP TRIGGER refuse_a")
    code, results = _normalize(config_path)
    assert code == 0 and results[0]["created"] == 3
    assert eduxchange.catalogue_counts(config)["resources"] == 6


def test_harvest_exits_1_when_a_member_s_normalization_fails(tmp_path: Path) -> None:
    """A member harvested but not normalized (its store refuses, as a broken disk would) is
    a failure of `eduxchange harvest` too: exit 1, saying so; the other member is normalized."""
    with _harvested_and_refusing_a(tmp_path) as config_path:
        result = CliRunner().invoke(main, ["harvest", "-c", str(config_path)])
        assert result.exit_code == 1, result.output
        assert "a: harvested, but" in result.stderr and "the disk says no" in result.stderr
        as_json = CliRunner().invoke(main, ["harvest", "-c", str(config_path), "--json"])
    assert as_json.exit_code == 1
    by_member = {r["member"]: r for r in json.loads(as_json.stdout)["results"]}
    assert "the disk says no" in str(by_member["a"]["normalization"]["error"])
    assert "error" not in (by_member["b"]["normalization"] or {})
    assert eduxchange.catalogue_counts(eduxchange.load_config(config_path))["resources"] == 3
