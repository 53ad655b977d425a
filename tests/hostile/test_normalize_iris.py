"""Item 8: catalogue IRIs of merged resources do not depend on timing, and never change.

Overlapping members are harvested into fresh stores with the members listed, finishing and
normalized in opposite orders, and every IRI is compared; a member that fails half-way and
comes back gets the IRIs an uninterrupted harvest gives; when two published resources turn out
to be one, the retired IRI answers a 301 to the surviving record, which says ``sameAs``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import requests
from click.testing import CliRunner
from lxml import etree
from rdflib import Graph, Namespace, URIRef

import eduxchange
from eduxchange.publish.server import make_app, make_server
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from eduxchange.catalog.validate import validate_record
from eduxchange_cli.main import main
from tests.conftest import SERVING, write_config
from tests.support.faulty import FaultyServer, serve_faulty
from tests.support.hostile_normalize import dc_records, iri_map, lom_records, lrmi_record
from tests.support.records import MemberRecord, utcnow
from tests.support._net import running

SCHEMA = Namespace("http://schema.org/")
OAI = "{http://www.openarchives.org/OAI/2.0/}"


def overlapping() -> dict[str, list[MemberRecord]]:
    """Three members whose resources overlap: LOM 1..12, oai_dc 7..18 (same URLs), and LRMI
    10..20 with DOIs, one of which also names resource 3 (so its key set differs)."""
    lrmi = [lrmi_record(f"oai:lrmi.example:{i}", url=f"https://oer.example.org/resources/{i:06d}",
                        name=f"Resource {i}", doi=f"10.1234/r{i}", minutes=i)
            for i in range(10, 21)]
    lrmi.append(lrmi_record("oai:lrmi.example:x3", url="https://oer.example.org/resources/000003",
                            name="Resource 3 again", doi="10.1234/r3", minutes=30))
    return {"alpha": lom_records(range(1, 13)), "beta": dc_records(range(7, 19)), "gamma": lrmi}


_PREFIX = {"alpha": "lom", "beta": "oai_dc", "gamma": "lom"}


@contextmanager
def members(page_size: int = 100) -> Iterator[dict[str, FaultyServer]]:
    with ExitStack() as stack:
        yield {name: stack.enter_context(serve_faulty(records, page_size=page_size))
               for name, records in overlapping().items()}


def config_for(directory: Path, servers: dict[str, FaultyServer], order: list[str],
               **harvest: Any) -> Path:
    directory.mkdir()
    return write_config(directory / "alliance.toml", [
        {"id": name, "endpoint": servers[name].url, "metadata_prefix": _PREFIX[name]}
        for name in order], harvest or None)


def run(*args: str) -> None:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output


def compare(first: Path, second: Path) -> None:
    one, every_one = iri_map(eduxchange.load_config(first))
    two, every_two = iri_map(eduxchange.load_config(second))
    assert len(one) == 12 + 12 + 12  # every description is in the catalogue
    assert len(set(one.values())) < len(one)  # and some resources are merged ones
    assert one == two
    assert every_one == every_two


def test_iris_do_not_depend_on_listing_or_finishing_order(tmp_path: Path) -> None:
    with members() as servers:
        # Listed one way, with the first-listed member slowest (it finishes last) ...
        servers["alpha"].delay_next(1, 0.4, verb="ListRecords")
        first = config_for(tmp_path / "one", servers, ["alpha", "beta", "gamma"])
        run("harvest", "-c", str(first), "-q")
        # ... and the other way round, the first-listed member slowest again.
        servers["gamma"].delay_next(1, 0.4, verb="ListRecords")
        second = config_for(tmp_path / "two", servers, ["gamma", "beta", "alpha"])
        run("harvest", "-c", str(second), "-q")
    compare(first, second)


def test_iris_do_not_depend_on_the_order_members_are_normalized(tmp_path: Path) -> None:
    with members() as servers:
        first = config_for(tmp_path / "one", servers, ["alpha", "beta", "gamma"])
        second = config_for(tmp_path / "two", servers, ["alpha", "beta", "gamma"])
        for config in (first, second):
            run("harvest", "-c", str(config), "-q", "--no-normalize")
    for member in ("alpha", "beta", "gamma"):
        run("normalize", "-c", str(first), "-q", "-m", member)
    run("normalize", "-c", str(second), "-q", "-m", "gamma", "-m", "beta", "-m", "alpha")
    compare(first, second)
    # And normalizing everything again changes no IRI.
    before = iri_map(eduxchange.load_config(first))
    run("normalize", "-c", str(first), "-q", "--all")
    assert iri_map(eduxchange.load_config(first)) == before


def test_a_member_that_fails_half_way_and_resumes_gets_the_same_iris(tmp_path: Path) -> None:
    with members(page_size=3) as servers:
        clean = config_for(tmp_path / "clean", servers, ["alpha", "beta", "gamma"])
        run("harvest", "-c", str(clean), "-q")
        # The member whose descriptions come first dies after one page; the others are
        # normalized (and published) meanwhile; it comes back and the harvest resumes.
        crashed = config_for(tmp_path / "crashed", servers, ["alpha", "beta", "gamma"],
                             max_retries=0)
        servers["alpha"].die_after_pages(1)
        result = CliRunner().invoke(main, ["harvest", "-c", str(crashed), "-q"])
        assert result.exit_code == 1, result.output
        servers["alpha"].heal()
        run("harvest", "-c", str(crashed), "-q")
    compare(clean, crashed)


# -- a later merge: the retired IRI stays resolvable --------------------------------------------


@contextmanager
def serving(config: eduxchange.Config) -> Iterator[str]:
    store = ReadOnlySQLiteStore(config.catalog.store)
    server = make_server(make_app(config, store), "127.0.0.1", 0, quiet=True)
    try:
        with running(server):  # waitress: serve_forever, shutdown, server_close
            yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        store.close()


def test_a_retired_iri_redirects_to_the_surviving_record_which_says_same_as(
        tmp_path: Path) -> None:
    url = "https://oer.example.org/merge/1"
    by_url = lrmi_record("oai:a:1", url=url, name="By URL")
    by_doi = lrmi_record("oai:b:1", url="https://mirror.example.net/1", name="By DOI",
                         doi="10.5555/merge")
    with serve_faulty([by_url]) as a, serve_faulty([by_doi]) as b, serve_faulty([]) as c:
        path = write_config(tmp_path / "alliance.toml", [
            {"id": m, "endpoint": s.url, "metadata_prefix": "lom"}
            for m, s in (("a", a), ("b", b), ("c", c))], feed=SERVING)
        run("harvest", "-c", str(path), "-q")
        config = eduxchange.load_config(path)
        published, _ = iri_map(config)
        first, second = published[("a", "oai:a:1")], published[("b", "oai:b:1")]
        assert first != second  # two resources, both published
        # A third member's record, added after the first harvest (so dated after it: the next
        # incremental harvest lists from then on), names both: they are one resource.
        both = dataclasses.replace(
            lrmi_record("oai:c:1", url=url, name="Both", doi="10.5555/merge"), datestamp=utcnow())
        c.add(both)
        run("harvest", "-c", str(path), "-q")
    now, every = iri_map(config)
    survivor = min(first, second)
    retired = max(first, second)
    assert set(now.values()) == {survivor} and every == {first, second}

    with serving(config) as site:
        uuid = retired.rsplit("/", 1)[1]
        moved = requests.get(f"{site}resources/{uuid}?format=ttl", allow_redirects=False,
                             timeout=10)
        assert moved.status_code == 301
        assert moved.headers["Location"] == f"{survivor.rsplit('/', 1)[1]}?format=ttl"
        followed = requests.get(f"{site}resources/{uuid}", timeout=10)
        assert followed.status_code == 200 and followed.json()["id"] == survivor
        assert followed.json()["sameAs"] == [retired]
        turtle = requests.get(f"{site}resources/{survivor.rsplit('/', 1)[1]}?format=ttl",
                              timeout=10)
        graph = Graph().parse(data=turtle.text, format="turtle")
        assert (URIRef(survivor), SCHEMA.sameAs, URIRef(retired)) in graph
        # OAI-PMH: the retired record is a deleted header (§2.5.1); the survivor is served.
        oai = requests.get(f"{site}oai", params={"verb": "GetRecord", "metadataPrefix": "oai_dc",
                                                 "identifier": retired}, timeout=10)
        header = etree.fromstring(oai.content).find(f".//{OAI}header")
        assert header is not None and header.get("status") == "deleted"

    # Normalizing everything again keeps both IRIs as they are.
    run("normalize", "-c", str(path), "-q", "--all")
    assert iri_map(config) == (now, every)
    with eduxchange.open_store(config) as store:
        [record] = [r.record for r in store.iter_resources()]
    assert validate_record(record) == [] and record["sameAs"] == [retired]


def test_a_key_minted_iri_is_never_given_to_a_second_resource(tmp_path: Path) -> None:
    """A resource keeps the IRI minted from its first URL after its URL changes; a new
    resource that now has the old URL must get an IRI of its own, not join it."""
    old_url, new_url = "https://oer.example.org/moved/old", "https://oer.example.org/moved/new"
    moving = lrmi_record("oai:a:1", url=old_url, name="Moving")
    with serve_faulty([moving]) as a, serve_faulty([]) as b:
        path = write_config(tmp_path / "alliance.toml", [
            {"id": m, "endpoint": s.url, "metadata_prefix": "lom"}
            for m, s in (("a", a), ("b", b))])
        run("harvest", "-c", str(path), "-q")
        config = eduxchange.load_config(path)
        [minted] = iri_map(config)[0].values()
        a.update("oai:a:1", metadata=lrmi_record("oai:a:1", url=new_url, name="Moved").metadata,
                 datestamp=utcnow())
        b.add(dataclasses.replace(lrmi_record("oai:b:1", url=old_url, name="Another"),
                                  datestamp=utcnow()))
        run("harvest", "-c", str(path), "-q")
    described, _ = iri_map(config)
    assert described[("a", "oai:a:1")] == minted
    assert described[("b", "oai:b:1")] != minted
