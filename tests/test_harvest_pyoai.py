"""The harvester against pyoai's own OAI-PMH server (code we did not write), over loopback."""

from __future__ import annotations

import json
import socket
from datetime import datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

import eduxchange
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker, write_config
from tests.support.lomgen import lom_xml, make_records
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord, utcnow

START = datetime(2024, 1, 1)


def records(n: int, **kw: object) -> list:  # type: ignore[type-arg]
    return make_records(n, start=START, step=timedelta(minutes=1), **kw)  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cli_full_then_incremental_harvest_and_status(tmp_path: Path) -> None:
    recs = records(230, sets=["math", "phys"])
    with serve_pyoai_member(recs, batch_size=50) as member:
        config = write_config(tmp_path / "alliance.toml",
                              [{"id": "ouc", "name": "Open University", "endpoint": member.url}])
        runner = CliRunner()
        result = runner.invoke(main, ["harvest", "--config", str(config)])
        assert result.exit_code == 0, result.output
        assert "Harvest summary" in result.output and "ouc" in result.output

        status = json.loads(runner.invoke(main, ["status", "-c", str(config), "--json"]).output)
        (ouc,) = status["members"]
        assert {k: ouc[k] for k in ("id", "name", "state", "records", "deleted",
                                    "metadata_prefix", "error")} == {
            "id": "ouc", "name": "Open University", "state": "ok", "records": 230,
            "deleted": 0, "metadata_prefix": "lom", "error": None}
        assert ouc["endpoint"] == member.url and ouc["last_harvest"].endswith("Z")
        # The format was negotiated: LOM is richer than the oai_dc pyoai also offers.
        assert any(r.get("verb") == "ListMetadataFormats" for r in member.requests)

        # The next day: one record changed, one deleted, one added.
        member.backend.update(recs[5].identifier, metadata=lom_xml(9999))
        member.backend.delete(recs[6].identifier)
        member.backend.add(MemberRecord(identifier="oai:example.org:new-1", datestamp=utcnow(),
                                        metadata=lom_xml(1000)))
        before = len(member.requests)
        result = runner.invoke(main, ["harvest", "--config", str(config), "--json"])
        assert result.exit_code == 0, result.output
        (run,) = json.loads(result.output)["results"]
        assert run["mode"] == "incremental" and run["from"]
        assert (run["new"], run["updated"], run["deleted"]) == (1, 1, 1)
        listed = [r for r in member.requests[before:] if r.get("verb") == "ListRecords"]
        assert listed[0]["from"] == run["from"]  # only what changed was asked for

        status = json.loads(runner.invoke(main, ["status", "-c", str(config), "--json"]).output)
        assert (status["members"][0]["records"], status["members"][0]["deleted"]) == (230, 1)


def test_sets_restrict_the_harvest_and_a_record_in_two_sets_is_held_once(
        make_config: ConfigMaker) -> None:
    recs = records(100, sets=["math", "phys", "chem"])
    in_math_or_phys = {r.identifier for r in recs if {"math", "phys"} & set(r.sets)}
    in_both = [r for r in recs if {"math", "phys"} <= set(r.sets)]
    assert in_both, "the generator puts some records in two sets"
    with serve_pyoai_member(recs, batch_size=10) as member:
        config = make_config([{"id": "m", "endpoint": member.url, "sets": ["math", "phys"]}])
        (result,) = eduxchange.harvest(config)
        assert result.ok, result.error
        with eduxchange.open_store(config) as store:
            held = {r.identifier: r for r in store.iter_records("m")}
        assert set(held) == in_math_or_phys
        assert set(held[in_both[0].identifier].sets) >= {"math", "phys"}
        assert result.unchanged >= len(in_both)  # seen again in the second set, stored once
        assert {r.get("set") for r in member.requests if r.get("verb") == "ListRecords"
                and "set" in r} == {"math", "phys"}


def test_a_failing_member_never_stops_the_others(tmp_path: Path) -> None:
    with serve_pyoai_member(records(40)) as member:
        config = write_config(tmp_path / "alliance.toml", [
            {"id": "down", "endpoint": f"http://127.0.0.1:{free_port()}/oai"},
            {"id": "up", "endpoint": member.url},
        ])
        result = CliRunner().invoke(main, ["harvest", "-c", str(config), "--json"])
        assert result.exit_code == 1
        down, up = json.loads(result.stdout)["results"]
        assert down["state"] == "failed" and "gave up after" in down["error"]
        assert up["state"] == "ok" and up["new"] == 40
        status = json.loads(CliRunner().invoke(main, ["status", "-c", str(config), "--json"]).stdout)
        states = {m["id"]: (m["state"], m["error"] is not None) for m in status["members"]}
        assert states == {"down": ("failed", True), "up": ("ok", False)}


def test_members_that_do_not_keep_deletions_are_reconciled(make_config: ConfigMaker) -> None:
    recs = records(60)
    with serve_pyoai_member(recs, batch_size=25, deleted_record="no") as member:
        config = make_config([{"id": "nodel", "endpoint": member.url}])
        (first,) = eduxchange.harvest(config)
        assert first.ok and first.new == 60 and first.retired == 0
        for rec in recs[:3]:
            member.backend.purge(rec.identifier)  # gone without a trace
        (second,) = eduxchange.harvest(config, reconcile=True)
        assert second.ok and second.retired == 3
        assert any(r.get("verb") == "ListIdentifiers" for r in member.requests)
        (status,) = eduxchange.member_statuses(config)
        assert (status.records, status.deleted) == (57, 3)
        # Not due again until reconcile_days have passed.
        (third,) = eduxchange.harvest(config)
        assert third.retired == 0
        with eduxchange.open_store(config) as store:
            gone = {r.identifier for r in store.iter_records("nodel") if r.deleted}
            kept = next(r for r in store.iter_records("nodel") if r.deleted)
        assert gone == {r.identifier for r in recs[:3]}
        assert kept.raw and b"<lom" in kept.raw  # a retired record keeps its last raw record


def test_full_flag_starts_over(make_config: ConfigMaker) -> None:
    with serve_pyoai_member(records(30)) as member:
        config = make_config([{"id": "a", "endpoint": member.url, "metadata_prefix": "oai_dc"}])
        (first,) = eduxchange.harvest(config)
        (again,) = eduxchange.harvest(config, full=True)
        assert (first.mode, first.new) == ("full", 30)
        assert (again.mode, again.from_, again.unchanged) == ("full", None, 30)
        assert not any(r.get("verb") == "ListMetadataFormats" for r in member.requests)


def test_library_client_reads_every_verb_of_pyoai(make_config: ConfigMaker) -> None:
    recs = records(35, sets=["math"])
    with serve_pyoai_member(recs, batch_size=10, set_names={"math": "Mathematics"}) as member:
        with eduxchange.OAIClient(member.url) as client:
            info = client.identify()
            assert info.protocol_version == "2.0" and info.deleted_record == "persistent"
            assert {f.prefix for f in client.list_metadata_formats()} == {"lom", "oai_dc"}
            assert [(s.spec, s.name) for s in client.list_sets()] == [("math", "Mathematics")]
            ids = [h.identifier for h in client.list_identifiers(metadata_prefix="lom")]
            assert ids == [r.identifier for r in recs]
            got = client.get_record(recs[3].identifier, "lom")
            assert got.identifier == recs[3].identifier and b"LOM" in got.raw
            listed = list(client.list_records(metadata_prefix="oai_dc", set_="math"))
            assert len(listed) == 35
