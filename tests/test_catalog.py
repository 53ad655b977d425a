"""The unified catalogue end to end: harvest from real servers -> normalize -> merge -> export."""

from __future__ import annotations

import io
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import eduxchange
from eduxchange.catalog.normalization import record_id_for
from eduxchange.catalog.merge import Ranked, canonical_url, match_keys, merge_descriptions
from eduxchange.catalog.validate import validate_record
from eduxchange_cli.main import main
from tests.conftest import ConfigMaker
from tests.support.faulty import serve_faulty
from tests.support.lomgen import lom_xml, make_records, oai_dc_xml
from tests.support.pyoai_member import serve_pyoai_member
from tests.support.records import MemberRecord, utcnow

START = datetime(2024, 1, 1)


def lom_records(n: int, first: int = 1) -> list[MemberRecord]:
    return make_records(n, start=START, step=timedelta(minutes=1), first=first)


def dc_records(numbers: range, datestamp: datetime | None = None) -> list[MemberRecord]:
    """oai_dc records of *other* repositories describing the same resources (same URLs)."""
    return [MemberRecord(identifier=f"oai:dc.example.net:{i}",
                         datestamp=datestamp or START + timedelta(hours=i),
                         metadata=oai_dc_xml(lom_xml(i), f"oai:dc.example.net:{i}"))
            for i in numbers]


def exported(config: eduxchange.Config, **kw: Any) -> list[dict[str, Any]]:
    out = io.BytesIO()
    with eduxchange.open_store(config) as store:
        eduxchange.publish.export.export(config, store, out, **kw)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def providers(record: dict[str, Any]) -> list[str]:
    return [p["provider"]["id"].rsplit("/", 1)[1] for p in record["mainEntityOfPage"]]


def test_two_members_one_catalogue_with_dedup_and_provenance(make_config: ConfigMaker) -> None:
    with serve_pyoai_member(lom_records(30)) as lom, serve_faulty(dc_records(range(21, 41))) as dc:
        config = make_config([
            {"id": "lom", "name": "LOM member", "endpoint": lom.url},
            {"id": "dc", "name": "DC member", "endpoint": dc.url, "metadata_prefix": "oai_dc"},
        ])
        results = eduxchange.harvest(config)
        assert all(r.ok for r in results)
        # Members are normalized in whichever order their harvests end: 40 resources either way.
        assert sum(r.normalization["created"] for r in results if r.normalization) == 40
        records = exported(config)
        # 30 LOM resources, 20 DC ones of which 10 (21..30) are the same resources.
        assert len(records) == 40
        by_url = {r["url"]: r for r in records}
        shared = by_url["https://oer.example.org/resources/000025"]
        assert sorted(providers(shared)) == ["dc", "lom"]
        only_dc = by_url["https://oer.example.org/resources/000035"]
        assert providers(only_dc) == ["dc"]
        for record in records:
            assert validate_record(record) == [], record["id"]
            assert record["id"].startswith("https://catalog.example.org/resources/")
        # The richer source (LOM) wins single-valued fields; concepts come from LOM's vocabularies.
        assert shared["learningResourceType"] and shared["about"]
        provenance = next(p for p in shared["mainEntityOfPage"] if p["identifier"].startswith("oai:dc"))
        assert provenance["id"].startswith(dc.url + "?verb=GetRecord&metadataPrefix=oai_dc&identifier=")
        assert provenance["provider"]["name"] == "DC member"


def test_catalogue_ids_are_stable_and_deletions_only_remove_provenance(
        make_config: ConfigMaker) -> None:
    recs = lom_records(12)
    with serve_pyoai_member(recs) as lom, serve_faulty([]) as dc:
        config = make_config([
            {"id": "lom", "endpoint": lom.url},
            {"id": "dc", "endpoint": dc.url, "metadata_prefix": "oai_dc"},
        ])
        eduxchange.harvest(config)
        first = {r["url"]: r["id"] for r in exported(config)}
        # A member re-sends a record; a second member adds the same resource later.
        lom.backend.update(recs[0].identifier, metadata=lom_xml(1).replace(b"Introduction", b"Intro"))
        for record in dc_records(range(1, 3), datestamp=utcnow()):
            dc.add(record)
        eduxchange.harvest(config)
        second = {r["url"]: r for r in exported(config)}
        assert {u: r["id"] for u, r in second.items()} == first
        url1 = "https://oer.example.org/resources/000001"
        assert sorted(providers(second[url1])) == ["dc", "lom"]

        # The LOM member deletes its description: only its provenance goes.
        lom.backend.delete(recs[0].identifier)
        eduxchange.harvest(config)
        third = {r["url"]: r for r in exported(config)}
        assert providers(third[url1]) == ["dc"] and third[url1]["id"] == first[url1]
        # The DC member deletes too: the resource leaves the catalogue.
        dc.delete("oai:dc.example.net:1")
        eduxchange.harvest(config)
        fourth = {r["url"]: r for r in exported(config)}
        assert url1 not in fourth and len(fourth) == 11
        assert eduxchange.catalogue_counts(config) == {"resources": 11, "deleted": 1}


def test_invalid_records_are_quarantined_with_reasons(make_config: ConfigMaker) -> None:
    recs = lom_records(5)
    recs[2].metadata = b'<lom xmlns="http://ltsc.ieee.org/xsd/LOM"><general/></lom>'  # no title
    recs[3].metadata = b'<mods xmlns="http://www.loc.gov/mods/v3"><titleInfo/></mods>'  # unknown format
    with serve_faulty(recs) as server:
        config = make_config([{"id": "m", "endpoint": server.url, "metadata_prefix": "lom"}])
        (result,) = eduxchange.harvest(config)
        assert result.ok and result.normalization
        assert (result.normalization["created"], result.normalization["quarantined"]) == (3, 2)
        entries = {e.identifier: e for e in eduxchange.quarantine_entries(config)}
        assert entries[recs[2].identifier].stage == "normalize"
        assert "name" in entries[recs[2].identifier].reason
        assert "no crosswalk" in entries[recs[3].identifier].reason
        assert entries[recs[3].identifier].raw and b"mods" in entries[recs[3].identifier].raw
        (status,) = eduxchange.member_statuses(config)
        assert status.quarantined == 2
        assert len(exported(config)) == 3


def test_normalize_all_reruns_from_raw_records_without_harvesting(make_config: ConfigMaker,
                                                                  tmp_path: Path) -> None:
    with serve_pyoai_member(lom_records(20)) as lom:
        config = make_config([{"id": "lom", "endpoint": lom.url}])
        eduxchange.harvest(config)
    before = exported(config)  # the member is gone now: no network from here on
    results = eduxchange.normalize_catalog(config, all_=True)
    assert results[0].processed == 20 and results[0].unchanged == 20
    assert exported(config) == before
    runner = CliRunner()
    cli = runner.invoke(main, ["normalize", "-c", str(config.path), "--all", "--json"])
    assert cli.exit_code == 0, cli.output
    assert json.loads(cli.stdout)["results"][0]["processed"] == 20
    out = tmp_path / "dump.ndjson"
    cli = runner.invoke(main, ["export", "-c", str(config.path), "--format", "ndjson", "-o", str(out)])
    assert cli.exit_code == 0 and len(out.read_bytes().splitlines()) == 20
    cli = runner.invoke(main, ["export", "-c", str(config.path), "--since", "2999-01-01"])
    assert cli.exit_code == 0 and cli.stdout == ""
    cli = runner.invoke(main, ["export", "-c", str(config.path), "--since", "yesterday"])
    assert cli.exit_code == 2 and "ISO 8601" in cli.stderr


def test_personal_contact_data_is_not_republished_by_default(make_config: ConfigMaker) -> None:
    with serve_pyoai_member(lom_records(3)) as lom:
        private = make_config([{"id": "lom", "endpoint": lom.url}])
        eduxchange.harvest(private)
        text = json.dumps(exported(private))
        assert "@" not in text.replace("@context", "").replace("@none", "")
        assert "BEGIN:VCARD" not in text


# -- merge and dedup (pure) ----------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [
    ("HTTP://Example.ORG:80/a/b/?utm_source=x&b=2&a=1#top", "https://example.org/a/b?a=1&b=2"),
    ("https://example.org:443/", "http://example.org"),
    ("https://example.org/x?fbclid=1", "https://example.org/x"),
])
def test_canonical_url_matches_variants(a: str, b: str) -> None:
    assert canonical_url(a) == canonical_url(b) is not None


def test_clean_url_for_display() -> None:
    from eduxchange.catalog.merge import clean_url
    assert clean_url("HTTP://OER.Example.org:80/a/B/?utm_source=x&b=2&a=1#top") == \
        "http://oer.example.org/a/B/?b=2&a=1"
    assert clean_url("https://example.org") == "https://example.org/"
    assert clean_url("not a url") == "not a url"


def test_canonical_url_keeps_what_distinguishes() -> None:
    assert canonical_url("https://example.org/a?id=1") != canonical_url("https://example.org/a?id=2")
    assert canonical_url("https://example.org:8080/a") != canonical_url("https://example.org/a")
    assert canonical_url("ftp://example.org/a") is None and canonical_url("not a url") is None


@given(st.from_regex(r"https?://[a-zA-Z0-9.-]{1,20}(:[0-9]{1,5})?(/[a-zA-Z0-9._~-]{0,8}){0,3}"
                     r"(\?[a-z]{1,3}=[a-z0-9]{0,3}(&[a-z_]{1,6}=[a-z0-9]{0,3}){0,2})?(#[a-z]*)?",
                     fullmatch=True))
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert once is None or canonical_url(once) == once


def test_merge_precedence_and_union() -> None:
    lom = {"type": ["LearningResource"], "name": {"en": "Fractions", "zh": "分数"},
           "url": "https://a.org/x", "license": {"id": "https://creativecommons.org/licenses/by/4.0/"},
           "keywords": {"en": ["maths"]}, "inLanguage": ["en"],
           "about": [{"id": "http://data.europa.eu/esco/isced-f/0541", "prefLabel": {"en": "Mathematics"}}],
           "mainEntityOfPage": [{"identifier": "oai:a:1", "provider": {"id": "https://c/members/a"}}]}
    dc = {"type": ["LearningResource"], "name": {"en": "Fractions (DC)", "fr": "Fractions"},
          "url": "https://a.org/x/", "license": {"id": "https://creativecommons.org/licenses/by-sa/4.0/"},
          "keywords": {"en": ["maths", "arithmetic"]}, "inLanguage": ["fr", "en"],
          "mainEntityOfPage": [{"identifier": "oai:b:1", "provider": {"id": "https://c/members/b"}}]}
    assert match_keys(lom) == match_keys(dc)
    ranked = [Ranked(description=dc, format_rank=10, member_id="b", identifier="oai:b:1"),
              Ranked(description=lom, format_rank=100, member_id="a", identifier="oai:a:1")]
    merged = merge_descriptions(ranked, record_id="https://c/resources/1", context="https://c/context.jsonld")
    assert merged["name"] == {"en": "Fractions", "zh": "分数", "fr": "Fractions"}
    assert merged["license"] == lom["license"] and merged["url"] == "https://a.org/x"
    assert merged["keywords"] == {"en": ["maths", "arithmetic"]}
    assert merged["inLanguage"] == ["en", "fr"]
    assert [p["identifier"] for p in merged["mainEntityOfPage"]] == ["oai:a:1", "oai:b:1"]
    assert merge_descriptions(list(reversed(ranked)), record_id="https://c/resources/1",
                              context="https://c/context.jsonld") == merged
    assert "_terms" not in merged and lom["name"] == {"en": "Fractions", "zh": "分数"}


def test_catalogue_records_as_rdf_conform_to_the_shapes(make_config: ConfigMaker) -> None:
    from eduxchange.publish.rdf import conforms, record_to_graph

    with serve_pyoai_member(lom_records(8)) as lom, serve_faulty(dc_records(range(5, 12))) as dc:
        config = make_config([{"id": "lom", "endpoint": lom.url},
                              {"id": "dc", "endpoint": dc.url, "metadata_prefix": "oai_dc"}])
        eduxchange.harvest(config)
        records = exported(config)
    assert len(records) == 11
    graph = None
    for record in records:
        graph = record_to_graph(record, graph)
    assert graph is not None
    ok, report = conforms(graph)
    assert ok, report


def test_untagged_text_equal_to_a_tagged_one_is_not_kept_twice() -> None:
    tagged = {"name": {"de": "Algebra"}, "keywords": {"de": ["Algebra", "Mathe"]},
              "mainEntityOfPage": []}
    untagged = {"name": {"@none": "Algebra"}, "description": {"@none": "Nur hier"},
                "keywords": {"@none": ["Algebra", "Übung"]}, "mainEntityOfPage": []}
    merged = merge_descriptions(
        [Ranked(description=tagged, format_rank=100, member_id="a", identifier="1"),
         Ranked(description=untagged, format_rank=10, member_id="b", identifier="2")],
        record_id="https://c/resources/1", context="https://c/context.jsonld")
    assert merged["name"] == {"de": "Algebra"}
    assert merged["description"] == {"@none": "Nur hier"}
    assert merged["keywords"] == {"de": ["Algebra", "Mathe"], "@none": ["Übung"]}


@given(member=st.text(max_size=20), identifier=st.text(max_size=60))
def test_catalogue_iris_are_uuid5_of_member_and_identifier(member: str, identifier: str) -> None:
    expected = uuid.uuid5(uuid.NAMESPACE_URL, f"{member}|{identifier}")
    assert record_id_for("https://c.example/", member, identifier) == (
        f"https://c.example/resources/{expected}")


@given(identifier=st.text(max_size=40) | st.from_regex(r"oai:[a-z.]+:[A-Za-z0-9_.~-]+",
                                                       fullmatch=True))
def test_provenance_quotes_identifiers_as_urllib_does(identifier: str) -> None:
    from urllib.parse import quote

    from eduxchange.catalog.normalization import _quote

    assert _quote(identifier) == quote(identifier, safe="")


def test_crosswalks_emit_source_terms_never_concepts() -> None:
    """describe() checks concept labels for shape only because only vocabularies make concepts."""
    from eduxchange.crosswalks import CrosswalkError, crosswalk

    from tests.support.standards import LOM_SAMPLES, LRMI_SAMPLES, OAI_SAMPLES, standard

    # The real-world samples (standards folder; skips without it) and our own IMS MD sample.
    samples = [standard(p) for p in (*OAI_SAMPLES, *LOM_SAMPLES, *LRMI_SAMPLES)]
    samples.append(Path(__file__).parent / "fixtures" / "lom" / "imsmd-v1p2-sample.xml")
    checked = 0
    for path in samples:
        try:
            description = crosswalk(path.read_bytes())
        except CrosswalkError:
            continue
        checked += 1
        for field in ("learningResourceType", "educationalLevel", "audience", "about"):
            assert field not in description, (path.name, field)
    assert checked >= 9
