"""ListRecords pages/second over a 100,000-record catalogue: first page vs a deep token, and
against pyoai's own BatchingServer serving the same records from memory.

    python bench/provider_bench.py [--records 100000] [--repeat 30]

The catalogue is synthetic (valid common records written through SQLiteStore.catalog() in big
transactions; no harvesting). Targets: deep page >= first page; eduxchange >= pyoai (issue 10:
at least 2x).

Then two cases a warm provider hides:

- a cold catalogue: the first ListRecords of a provider just opened on the catalogue
  (read-only store and provider made anew each time, as `eduxchange serve` starts after a
  harvest; the OS file cache stays warm), as a ratio to a warm first page;
- after a writer change: an upgrade that bumps the oai_dc writer's version leaves every
  pre-rendered page stale, so the provider renders each record on request until the next
  normalization re-renders them (Catalog.refresh_written, timed too).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from oaipmh import common
from oaipmh.metadata import MetadataRegistry
from oaipmh.server import BatchingServer, encodeResumptionToken, oai_dc_writer

import eduxchange.catalog.normalization
import eduxchange.publish.provider
from dataclasses import replace
from types import MappingProxyType

from eduxchange.core.config import parse_config
from eduxchange.catalog.normalization import Catalog, prewrite
from eduxchange.publish.provider import Provider, _ListState
from eduxchange.store.sqlite import ReadOnlySQLiteStore, SQLiteStore
from eduxchange.catalog.sets import oai_set_specs
from eduxchange.publish.writers import WRITERS

BASE = "https://catalog.example.org/"
URL = "http://127.0.0.1/oai"


def record(i: int) -> dict[str, Any]:
    rid = f"{BASE}resources/{uuid.UUID(int=i)}"
    return {
        "@context": f"{BASE}context.jsonld", "id": rid, "type": ["LearningResource"],
        "url": f"https://oer.example.org/resources/{i:06d}",
        "name": {"en": f"Resource {i}: introduction to fractions", "zh": "分数入门"},
        "description": {"en": "A short course on fractions. " * 3},
        "keywords": {"en": ["fractions", "arithmetic"]},
        "inLanguage": ["en", "zh"] if i % 2 else ["en"],
        "license": {"id": "https://creativecommons.org/licenses/by-sa/4.0/"},
        "learningResourceType": [{"id": "http://purl.org/dcx/lrmi-vocabs/learningResourceType/lessonPlan",
                                  "prefLabel": {"en": "lesson plan"}}],
        "creator": [{"type": "Person", "name": f"Author {i % 97}"}],
        "datePublished": "2023-06",
        "mainEntityOfPage": [{
            "id": f"https://m{i % 5}.example.org/oai?verb=GetRecord&metadataPrefix=lom&identifier=oai%3Am%3A{i}",
            "type": "WebPage",
            "provider": {"id": f"{BASE}members/m{i % 5}", "type": "Organization",
                         "name": f"Member {i % 5}"},
            "identifier": f"oai:m{i % 5}.example.org:{i}",
            "dateModified": "2024-01-02T10:00:00Z", "sdDatePublished": "2024-01-03T08:00:00Z"}],
    }


def build(store: SQLiteStore, n: int) -> None:
    batch = 20_000
    for start in range(0, n, batch):
        with store.catalog() as txn:
            for i in range(start, min(n, start + batch)):
                rec = record(i)
                txn.put_resource(rec["id"], rec, deleted=False,
                                 sets=oai_set_specs(rec))
                prewrite(txn, rec["id"], rec)  # as normalization does


class MemoryBackend:
    """pyoai IBatchingOAI over in-memory (header, metadata, about) tuples."""

    def __init__(self, n: int) -> None:
        stamp = datetime(2024, 1, 3, 8, 0, 0)
        self.items = []
        for i in range(n):
            rec = record(i)
            header = common.Header(None, f"oai:catalog.example.org:{uuid.UUID(int=i)}", stamp,
                                   ["member:m%d" % (i % 5)], False)
            metadata = common.Metadata(None, {
                "title": list(rec["name"].values()), "creator": [rec["creator"][0]["name"]],
                "subject": rec["keywords"]["en"], "description": list(rec["description"].values()),
                "publisher": [], "contributor": [], "date": [rec["datePublished"]],
                "type": ["lesson plan"], "format": [], "identifier": [rec["url"], rec["id"]],
                "source": [], "language": rec["inLanguage"], "relation": [], "coverage": [],
                "rights": [rec["license"]["id"]]})
            self.items.append((header, metadata, None))

    def identify(self) -> common.Identify:
        return common.Identify("mem", URL, "2.0", ["a@example.org"], datetime(2024, 1, 1),
                               "persistent", "YYYY-MM-DDThh:mm:ssZ", ["identity"])

    def listMetadataFormats(self, identifier: str | None = None) -> list[tuple[str, str, str]]:
        return [("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd",
                 "http://www.openarchives.org/OAI/2.0/oai_dc/")]

    def listRecords(self, metadataPrefix: str | None = None, set: str | None = None,  # noqa: A002
                    from_: Any = None, until: Any = None, cursor: int = 0,
                    batch_size: int = 10) -> list[Any]:
        return self.items[cursor:cursor + batch_size]


def rate(fn: Any, repeat: int) -> float:
    fn()  # warm up
    t0 = time.perf_counter()
    for _ in range(repeat):
        fn()
    return repeat / (time.perf_counter() - t0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    n, repeat = args.records, args.repeat
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config({"catalog": {"store": "catalog.sqlite", "base_uri": BASE},
                               "feed": {"page_size": 100, "admin_email": "oai@example.org"}},
                              path=Path(tmp) / "alliance.toml")
        store = SQLiteStore(config.catalog.store)
        t0 = time.perf_counter()
        build(store, n)
        print(f"built {n} records in {time.perf_counter() - t0:.1f} s")
        provider = Provider(config, store)
        deep_seq = int(n * 0.9)
        deep = provider._token(_ListState("oai_dc", None, None, None, deep_seq, deep_seq, n))

        def first() -> None:
            provider.handle({"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"]}, base_url=URL)

        def deep_page() -> None:
            body = provider.handle({"verb": ["ListRecords"], "resumptionToken": [deep]},
                                   base_url=URL)
            assert b"<record>" in body


        registry = MetadataRegistry()
        registry.registerWriter("oai_dc", oai_dc_writer)
        server = BatchingServer(MemoryBackend(n), metadata_registry=registry,
                                resumption_batch_size=100)
        pyoai_deep_token = encodeResumptionToken({"metadataPrefix": "oai_dc"}, deep_seq)

        def pyoai_first() -> None:
            server.handleRequest({"verb": "ListRecords", "metadataPrefix": "oai_dc"})

        def pyoai_deep() -> None:
            body = server.handleRequest({"verb": "ListRecords", "resumptionToken": pyoai_deep_token})
            assert b"<record>" in body or b"record" in body

        # In turn, several rounds, so that a noisy machine affects both sides alike.
        rounds = 5
        samples: dict[str, list[float]] = {"ours_first": [], "ours_deep": [], "theirs_first": [],
                                           "theirs_deep": []}
        for _ in range(rounds):
            samples["ours_first"].append(rate(first, repeat // rounds or 1))
            samples["theirs_first"].append(rate(pyoai_first, repeat // rounds or 1))
            samples["ours_deep"].append(rate(deep_page, repeat // rounds or 1))
            samples["theirs_deep"].append(rate(pyoai_deep, repeat // rounds or 1))
        ratio_first = statistics.median(
            a / b for a, b in zip(samples["ours_first"], samples["theirs_first"], strict=True))
        ratio_deep = statistics.median(
            a / b for a, b in zip(samples["ours_deep"], samples["theirs_deep"], strict=True))
        ours_first, ours_deep, theirs_first, theirs_deep = (
            statistics.median(samples[k]) for k in ("ours_first", "ours_deep", "theirs_first",
                                                    "theirs_deep"))

        # A cold catalogue: the first request of a provider opened anew, against a warm one.
        cold_ratios, cold_ms = [], []
        for _ in range(rounds):
            t0 = time.perf_counter()
            cold_store = ReadOnlySQLiteStore(config.catalog.store)
            Provider(config, cold_store).handle(
                {"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"]}, base_url=URL)
            cold = time.perf_counter() - t0
            cold_store.close()
            warm = 1 / rate(first, 3)
            cold_ms.append(cold * 1000)
            cold_ratios.append(cold / warm)

        # After a writer change (a new release): every pre-rendered oai_dc page is stale.
        table = dict(WRITERS)
        table["oai_dc"] = replace(WRITERS["oai_dc"], version=WRITERS["oai_dc"].version + "+bench")
        saved = eduxchange.publish.provider.WRITERS, eduxchange.catalog.normalization.WRITERS
        eduxchange.publish.provider.WRITERS = eduxchange.catalog.normalization.WRITERS = MappingProxyType(table)
        stale: dict[str, list[float]] = {"first": [], "deep": [], "first_x": [], "deep_x": []}
        for _ in range(rounds):
            a, b = rate(first, repeat // rounds or 1), rate(pyoai_first, repeat // rounds or 1)
            stale["first"].append(a)
            stale["first_x"].append(a / b)
            a, b = rate(deep_page, repeat // rounds or 1), rate(pyoai_deep, repeat // rounds or 1)
            stale["deep"].append(a)
            stale["deep_x"].append(a / b)
        t0 = time.perf_counter()
        rerendered = Catalog(config, store).refresh_written()
        refresh = time.perf_counter() - t0
        after = [rate(first, repeat // rounds or 1) for _ in range(rounds)]
        eduxchange.publish.provider.WRITERS, eduxchange.catalog.normalization.WRITERS = saved
        store.close()
    print(f"eduxchange ListRecords oai_dc, 100-record pages: first {ours_first:.1f} pages/s, "
          f"deep (record {deep_seq}) {ours_deep:.1f} pages/s, deep/first {ours_deep / ours_first:.2f}")
    print(f"pyoai BatchingServer (in memory):            first {theirs_first:.1f} pages/s, "
          f"deep {theirs_deep:.1f} pages/s")
    print(f"eduxchange / pyoai (pairwise medians of {rounds} rounds): first {ratio_first:.2f}x, "
          f"deep {ratio_deep:.2f}x")
    print(f"cold catalogue: first ListRecords of a new provider {spread(cold_ms, '{:.1f}')} ms, "
          f"{spread(cold_ratios)}x a warm first page")
    print(f"after a writer change, before normalization: first {spread(stale['first'], '{:.1f}')} "
          f"pages/s ({spread(stale['first_x'])}x pyoai), deep {spread(stale['deep'], '{:.1f}')} "
          f"pages/s ({spread(stale['deep_x'])}x pyoai)")
    print(f"  normalization's re-rendering of the stale oai_dc: {rerendered} records in "
          f"{refresh:.1f} s = {refresh / max(rerendered, 1) * 1e6:.0f} us/record; first page "
          f"then {statistics.median(after):.1f} pages/s")


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    return (f"{fmt.format(statistics.median(values))} (min {fmt.format(min(values))}, "
            f"max {fmt.format(max(values))})")


if __name__ == "__main__":
    main()
