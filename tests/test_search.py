"""Full-text search (``/search`` and ``CatalogStore.search``) on the demo alliance's catalogue.

The demo's three sample members (zh/en/fr/ar/es/ru records) are harvested from loopback; every
expectation is computed from the catalogue's own records (an oracle), not copied from a run.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import eduxchange
from eduxchange.store.search import (
    MAX_TERMS,
    SearchQuery,
    fts5_match,
    member_of,
    search_terms,
)
from eduxchange.store.sqlite import SQLiteStore
from eduxchange.catalog.sets import oai_set_specs
from eduxchange.catalog.vocab import default_vocabularies
from eduxchange.publish.web.messages import MESSAGES, UI_LANGUAGES
from tests.support.search_site import BASE_URI, SearchSite, search_site

ISCED = "http://data.europa.eu/esco/isced-f/"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchSite]:
    with search_site(tmp_path_factory.mktemp("search")) as s:
        yield s


@pytest.fixture(scope="module")
def records(site: SearchSite) -> dict[str, dict[str, Any]]:
    with eduxchange.open_store(site.config) as store:
        return {r.id: r.record for r in store.iter_resources()}


def _ids(site: SearchSite, **query: Any) -> list[str]:
    with eduxchange.open_store(site.config) as store:
        result = store.search(SearchQuery(page_size=100, **query))
        assert result.total == len(result.hits)
        return [h.resource_id for h in result.hits]


def _texts(record: dict[str, Any]) -> str:
    parts = [*record.get("name", {}).values(), *record.get("description", {}).values()]
    for words in record.get("keywords", {}).values():
        parts.extend(words)
    return "\n".join(parts)


def _subjects(record: dict[str, Any]) -> set[str]:
    return {c["id"] for c in record.get("about", [])}


# -- the query parser ---------------------------------------------------------------------------

def test_terms_drop_operators_and_punctuation() -> None:
    assert search_terms('NEAR("a" b) OR title:x*') == ["NEAR", "a", "b", "OR", "title", "x"]
    assert search_terms("ｆｒａｃｔｉｏｎｓ") == ["fractions"]  # full-width, NFKC
    assert search_terms("الكَسور") == ["الكَسور"]  # harakat stay inside the word
    assert search_terms("\x00\x1b[31m") == ["31m"]
    assert len(search_terms("a " * 100)) == MAX_TERMS
    assert fts5_match(search_terms('NEAR "x')) == '"NEAR" AND "x"'
    assert fts5_match(["分数"]) == '"分 数"'  # a phrase of characters: CJK substring search
    assert fts5_match([]) is None and fts5_match(search_terms("*** ((")) is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_gives_a_valid_match_expression(text: str) -> None:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE t USING fts5 (a, b, tokenize = "
                 "'unicode61 remove_diacritics 2')")
    conn.execute("INSERT INTO t VALUES ('x', 'y')")
    match = fts5_match(search_terms(text))
    if match is not None:
        conn.execute("SELECT * FROM t WHERE t MATCH ?", (match,)).fetchall()  # never raises


# -- the store: every language, concept labels, facets, filters, paging -----------------------

@pytest.mark.parametrize("query", ["分数", "光合作用", "丝绸之路", "الكسور", "التمثيل الضوئي",
                                   "photosynthèse", "законы Ньютона", "fotosíntesis"])
def test_query_in_any_script_finds_exactly_the_records_saying_it(
        site: SearchSite, records: dict[str, dict[str, Any]], query: str) -> None:
    words = query.casefold().split()
    expected = {i for i, r in records.items() if all(w in _texts(r).casefold() for w in words)}
    assert expected  # the demo has them
    assert set(_ids(site, text=query)) == expected


def test_accents_do_not_matter(site: SearchSite) -> None:
    assert set(_ids(site, text="photosynthese")) == set(_ids(site, text="photosynthèse"))


def test_concept_label_in_another_language_finds_the_tagged_records(
        site: SearchSite, records: dict[str, dict[str, Any]]) -> None:
    # No record says 数学 or mathématiques: the ISCED-F label of their subject does.
    maths = {i for i, r in records.items() if ISCED + "0541" in _subjects(r)}
    assert maths and not any("数学" in _texts(records[i]) for i in maths)
    for label in ("数学", "mathématiques", "الرياضيات", "Mathematics"):
        assert set(_ids(site, text=label)) == maths, label


def test_french_record_found_by_the_chinese_label_of_its_subject(
        site: SearchSite, tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.sqlite"
    shutil.copy(site.config.catalog.store, copy)
    french = {"id": f"{BASE_URI}resources/00000000-0000-5000-8000-000000000001",
              "name": {"fr": "Les nombres premiers"}, "description": {"fr": "Une fiche."},
              "inLanguage": ["fr"], "about": [{"id": ISCED + "0541"}]}
    with SQLiteStore(copy) as store:
        with store.catalog() as txn:
            assert txn.put_resource(french["id"], french, deleted=False,
                                    sets=oai_set_specs(french)) == "create"
        hits = [h.resource_id for h in store.search(SearchQuery(text="数学", page_size=100)).hits]
        assert french["id"] in hits
        with store.catalog() as txn:  # withdrawn: out of the index in the same transaction
            assert txn.put_resource(french["id"], french, deleted=True,
                                    sets=oai_set_specs(french)) == "delete"
        assert store.search(SearchQuery(text="nombres premiers")).total == 0


def test_an_unchanged_record_costs_no_write(site: SearchSite, tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.sqlite"
    shutil.copy(site.config.catalog.store, copy)
    with SQLiteStore(copy) as store:
        resource = next(iter(store.iter_resources()))
        with store.catalog() as txn:
            before = txn.conn.total_changes
            assert txn.put_resource(resource.id, resource.record, deleted=False,
                                    sets=oai_set_specs(resource.record)) is None
            assert txn.conn.total_changes == before


def test_an_existing_store_gets_its_index_on_first_open(site: SearchSite, tmp_path: Path) -> None:
    copy = tmp_path / "catalogue.sqlite"
    shutil.copy(site.config.catalog.store, copy)
    conn = sqlite3.connect(copy)
    with conn:  # as a store made before search existed
        conn.execute("DROP TABLE search_text")
        conn.execute("DROP TABLE facet_postings")  # (search_facets before schema 6)
        conn.execute("DROP TABLE facet_values")
        conn.execute("DELETE FROM meta WHERE key = 'search_index'")
        # Such stores are of schema version 2 or older (search came without a version number).
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    with SQLiteStore(copy) as store:
        assert store.search(SearchQuery(text="分数")).total == len(_ids(site, text="分数")) > 0


def test_facet_counts_are_exact(site: SearchSite, records: dict[str, dict[str, Any]]) -> None:
    with eduxchange.open_store(site.config) as store:
        result = store.search(SearchQuery())
    assert result.total == len(records)
    expected: dict[str, Counter[str]] = {k: Counter() for k in result.facets}
    for r in records.values():
        expected["language"].update({t.split("-")[0].lower() for t in r.get("inLanguage", [])})
        expected["type"].update({c["id"] for c in r.get("learningResourceType", [])})
        expected["level"].update({c["id"] for c in r.get("educationalLevel", [])})
        expected["subject"].update(_subjects(r))
        expected["licence"].update([r["license"]["id"]] if "license" in r else [])
        expected["member"].update({m for m in map(member_of, r["mainEntityOfPage"]) if m})
    for facet, counts in result.facets.items():
        assert {f.value: f.count for f in counts} == dict(expected[facet]), facet
        assert [f.count for f in counts] == sorted((f.count for f in counts), reverse=True)


def test_filters_combine(site: SearchSite, records: dict[str, dict[str, Any]]) -> None:
    def members(r: dict[str, Any]) -> set[str | None]:
        return set(map(member_of, r["mainEntityOfPage"]))

    expected = {i for i, r in records.items() if "fr" in r.get("inLanguage", [])
                and members(r) & {"ouc", "latam"}}
    got = _ids(site, filters={"language": ("fr",), "member": ("ouc", "latam")})
    assert expected and set(got) == expected
    with_text = _ids(site, text="fractions", filters={"member": ("ouc",)})
    assert with_text and set(with_text) < set(_ids(site, text="fractions"))
    assert _ids(site, filters={"member": ("no-such-member",)}) == []


def test_pages_walk_the_whole_result_once(site: SearchSite) -> None:
    everything = _ids(site)
    walked: list[str] = []
    with eduxchange.open_store(site.config) as store:
        for page in range(1, 6):
            walked.extend(h.resource_id for h in store.search(
                SearchQuery(page=page, page_size=7)).hits)
    assert walked == everything and len(set(walked)) == len(everything) == 30


def test_relevance_puts_title_matches_first(site: SearchSite,
                                            records: dict[str, dict[str, Any]]) -> None:
    with eduxchange.open_store(site.config) as store:
        hits = store.search(SearchQuery(text="Python", page_size=100)).hits
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    in_title = ["python" in " ".join(records[h.resource_id]["name"].values()).casefold()
                for h in hits]
    assert in_title == sorted(in_title, reverse=True) and in_title[0]


# -- over HTTP: JSON for machines, HTML for people ---------------------------------------------

def test_json_shape(site: SearchSite) -> None:
    response = site.get("search?q=分数&size=2")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"query", "filters", "page", "pageSize", "pages", "total", "results",
                         "facets", "prev", "next"}
    assert body["query"] == "分数" and body["pageSize"] == 2 and body["total"] == 4
    assert body["pages"] == 2 and body["prev"] is None and "page=2" in body["next"]
    hit = body["results"][0]
    assert set(hit) == {"id", "score", "name", "description", "url", "inLanguage", "license",
                        "members"}
    assert "分数" in hit["name"]["zh"] and hit["members"]
    assert set(body["facets"]) == {"language", "type", "level", "subject", "licence", "member"}
    assert all(set(f) == {"value", "count"} for counts in body["facets"].values() for f in counts)
    second = site.get(body["next"].removeprefix(site.url.rstrip("/"))).json()
    assert second["page"] == 2 and second["next"] is None and len(second["results"]) == 2


@pytest.mark.parametrize("query", [
    '"', '""', "'", "NEAR(a b)", "NEAR", "*", "a*", "^x", "title:x", "(", ")", "-x", "AND",
    "OR NOT", "\x00", "\x1f\x7f", "%00", "%FF%FE", "%E4%B8", "x" * 499, "x" * 501, "a " * 300,
    "page=0", "size=1000&q=x", "page=-1", "page=99999999999999999999", "language=" + "x" * 600,
])
def test_hostile_queries_get_200_or_400(site: SearchSite, query: str) -> None:
    raw = query if "=" in query or "%" in query else None
    for accept in ("application/json", "text/html"):
        if raw is not None:
            response = site.get(f"search?q=x&{raw}" if "=" in raw else f"search?q={raw}",
                                headers={"Accept": accept})
        else:
            response = site.get("search", params={"q": query}, headers={"Accept": accept})
        assert response.status_code in (200, 400), (query, response.text[:300])
        if response.status_code == 400:
            assert "bad search" in response.json()["detail"]


@pytest.mark.parametrize("lang", UI_LANGUAGES)
def test_html_page_in_every_interface_language(site: SearchSite, lang: str) -> None:
    from lxml import html

    response = site.get(f"search?q=fractions&lang={lang}", headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.headers["Content-Language"] == lang
    doc = html.fromstring(response.content)
    messages = MESSAGES[lang]
    total = len(_ids(site, text="fractions"))
    assert doc.findtext(".//h2[@id='results-h']") == messages["results_count"].format(count=total)
    assert len(doc.findall(".//li[@class='hit']")) == total
    assert doc.find(".//aside[@class='facets']") is not None
    subject = doc.xpath(".//section[@data-facet='subject']//a")
    label = default_vocabularies().concept(ISCED + "0541")
    assert label is not None and subject[0].text_content() == label.pref_label.get(
        lang, label.pref_label["en"])
    assert (doc.get("dir") == "rtl") == (lang == "ar")
    none = site.get(f"search?q=zzqqxx&lang={lang}", headers={"Accept": "text/html"})
    assert messages["no_results"] in none.text
    assert len(response.content) < 100_000


def test_facet_links_narrow_and_undo(site: SearchSite) -> None:
    from lxml import html

    page = html.fromstring(site.get("search?lang=en", headers={"Accept": "text/html"}).content)
    link = page.xpath(".//section[@data-facet='member']//a")[-1]
    count = int(link.getparent().findtext("span"))
    narrowed = html.fromstring(site.get(link.get("href").removeprefix(site.url.rstrip("/")),
                                        headers={"Accept": "text/html"}).content)
    assert len(narrowed.findall(".//li[@class='hit']")) == min(count, 20)
    active = narrowed.xpath(".//a[@aria-current='true']")
    assert len(active) == 1
    undone = site.get(active[0].get("href").removeprefix(site.url.rstrip("/")),
                      headers={"Accept": "text/html"})
    assert MESSAGES["en"]["results_count"].format(count=30) in undone.text


def test_snippet_marks_the_words_and_escapes_markup(site: SearchSite) -> None:
    response = site.get("search?q=photosynthèse&lang=fr", headers={"Accept": "text/html"})
    assert "<mark>photosynthèse</mark>" in response.text
    assert "&lt;mark&gt;" not in response.text
    assert json.loads(site.get("search?q=<script>").text)["total"] == 0


def test_an_old_catalogue_served_read_only_says_how_to_index_it(
        site: SearchSite, tmp_path: Path) -> None:
    import threading

    import requests
    from click.testing import CliRunner

    from eduxchange.publish.server import make_app, make_server
    from eduxchange.store.sqlite import ReadOnlySQLiteStore
    from eduxchange_cli.main import main

    copy = tmp_path / "catalogue.sqlite"
    shutil.copy(site.config.catalog.store, copy)
    conn = sqlite3.connect(copy)
    with conn:  # as a store made before search existed
        conn.execute("DROP TABLE search_text")
        conn.execute("DROP TABLE facet_postings")  # (search_facets before schema 6)
        conn.execute("DROP TABLE facet_values")
        conn.execute("DELETE FROM meta WHERE key = 'search_index'")
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    store = ReadOnlySQLiteStore(copy)
    server = make_server(make_app(site.config, store), "127.0.0.1", 0, quiet=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/search?q=x"
        response = requests.get(url, timeout=10)
        assert response.status_code == 503
        assert "eduxchange normalize --all" in response.json()["detail"]
        demo_config = Path(site.config.catalog.store).parent / "alliance.toml"
        own = tmp_path / "alliance.toml"  # the demo's config, with the copy as its store
        own.write_text(demo_config.read_text("utf-8").replace(
            f'store = "{Path(site.config.catalog.store).name}"', 'store = "catalogue.sqlite"'),
            "utf-8")
        assert eduxchange.load_config(own).catalog.store == copy
        result = CliRunner().invoke(main, ["normalize", "-c", str(own), "--all", "-q"])
        assert result.exit_code == 0, result.output
        assert requests.get(url.replace("q=x", "q=分数"), timeout=10).json()["total"] == 4
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        store.close()


def test_audience_labels_are_searched_too(site: SearchSite,
                                          records: dict[str, dict[str, Any]]) -> None:
    student = "http://purl.org/dcx/lrmi-vocabs/educationalAudienceRole/student"
    tagged = {i for i, r in records.items() if student in {a["id"] for a in r.get("audience", [])}}
    assert tagged and not any("学生" in _texts(records[i]) for i in tagged)
    assert tagged <= set(_ids(site, text="学生"))
