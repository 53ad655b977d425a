"""/oai answers hostile arguments and forged resumption tokens with OAI-PMH errors, never a 500
(issue 9, item 11). A real server on 127.0.0.1, GET and POST."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from lxml import etree

from tests.support.hostile_server import Published, published
from tests.support.standards import oai_response_schema

OAI = "{http://www.openarchives.org/OAI/2.0/}"

#: Every character XML 1.0 cannot carry that a percent-escape can send (all but tab, LF, CR).
CONTROLS = [c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)]

#: Per verb, a valid request; each of its arguments gets the control character in turn.
VALID = {
    "Identify": {},
    "ListMetadataFormats": {"identifier": None},  # filled with a real identifier
    "ListSets": {},
    "GetRecord": {"identifier": None, "metadataPrefix": "oai_dc"},
    "ListIdentifiers": {"metadataPrefix": "oai_dc", "from": "2020-01-01", "until": "2099-01-01",
                        "set": "member"},
    "ListRecords": {"metadataPrefix": "oai_dc", "from": "2020-01-01T00:00:00Z",
                    "until": "2099-01-01T00:00:00Z", "set": "member:lom"},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    with published(tmp_path_factory.mktemp("oai-hostile")) as s:
        yield s


def _oai(site: Published, session: requests.Session, params: dict[str, str], *,
         post: bool = False) -> etree._Element:
    if post:
        r = session.post(site.url + "oai", data=params, timeout=10)
    else:
        r = session.get(site.url + "oai", params=params, timeout=10)
    assert r.status_code == 200, (params, post, r.status_code, r.text[:300])
    root = etree.fromstring(r.content)
    schema = oai_response_schema()
    assert schema is None or schema.validate(root), (params, r.text[:500])
    return root


def _error(root: etree._Element) -> str | None:
    error = root.find(f"{OAI}error")
    return None if error is None else str(error.get("code"))


def _identifier(site: Published, session: requests.Session) -> str:
    root = _oai(site, session, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    return str(root.findtext(f".//{OAI}identifier"))


def _valid(site: Published, session: requests.Session, verb: str) -> dict[str, str]:
    ident = _identifier(site, session)
    return {"verb": verb, **{k: (ident if v is None else v) for k, v in VALID[verb].items()}}


@pytest.mark.parametrize("post", [False, True], ids=["GET", "POST"])
@pytest.mark.parametrize("verb", list(VALID))
def test_a_control_character_in_any_argument_of_any_verb_is_bad_argument(
        site: Published, verb: str, post: bool) -> None:
    # Before: 500 (lxml refused to echo the value into <request>), e.g. metadataPrefix=%01.
    with requests.Session() as session:
        valid = _valid(site, session, verb)
        assert _error(_oai(site, session, valid, post=post)) in (None, "noRecordsMatch")
        names = [n for n in valid if n != "verb"] + ["resumptionToken", "extra"]
        for code in CONTROLS:
            char = chr(code)
            for name in names:
                if name == "resumptionToken":
                    params = {"verb": verb, name: f"abc{char}def"}
                elif name == "extra":  # an illegal argument holding one: badArgument as well
                    params = {**valid, f"x{char}": "1"}
                else:
                    params = {**valid, name: f"{valid[name]}{char}"}
                got = _error(_oai(site, session, params, post=post))
                assert got == "badArgument", (verb, name, hex(code), got)
            # The character alone as the value, too (the issue's metadataPrefix=%01).
            if "metadataPrefix" in valid:
                got = _error(_oai(site, session, {**valid, "metadataPrefix": char}, post=post))
                assert got == "badArgument", (verb, hex(code), got)
            assert _error(_oai(site, session, {"verb": verb + char}, post=post)) == "badVerb"


def test_the_issue_example_over_a_raw_query_string(site: Published) -> None:
    for query in ("verb=ListRecords&metadataPrefix=%01", "verb=Identify&%00=%00",
                  "verb=GetRecord&identifier=%1f&metadataPrefix=oai_dc",
                  "verb=ListSets&resumptionToken=%0b", "verb=ListIdentifiers&metadataPrefix=%ef%bf%be"):
        r = requests.get(f"{site.url}oai?{query}", timeout=10)
        assert r.status_code == 200, (query, r.text[:200])
        assert _error(etree.fromstring(r.content)) == "badArgument", query


# -- resumption tokens ---------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(key: bytes, fields: Any) -> str:
    payload = json.dumps(fields, separators=(",", ":")).encode()
    return f"{_b64(payload)}.{_b64(hmac.new(key, payload, hashlib.sha256).digest()[:12])}"


def _old_key(base_uri: str) -> bytes:
    """The key tokens used to be signed with: derived from the public base_uri alone."""
    return hashlib.sha256(b"eduxchange-oai-token\0" + base_uri.encode()).digest()


def _stored_key(site: Published) -> bytes:
    with sqlite3.connect(f"file:{site.config.catalog.store}?mode=ro", uri=True) as conn:
        (value,) = conn.execute("SELECT value FROM meta WHERE key = 'oai_token_key'").fetchone()
    return bytes.fromhex(value)


GOOD = [1, "oai_dc", None, None, None, 0, 0, 8]
#: Fields of the wrong type or range (each replaces one field of GOOD).
BAD_FIELDS: list[tuple[int, Any]] = [
    (0, 2), (0, True), (0, "1"), (0, None),
    (1, 7), (1, None), (1, ["oai_dc"]), (1, "no such"), (1, "oai_dc\u0001"), (1, "x" * 300),
    (2, ["2024-01-01T00:00:00Z"]), (2, {"a": 1}), (2, 20240101), (2, "yesterday"),
    (2, "2024-01-01T00:00:00Z\u0000"),
    (3, ["x"]), (3, 1.5), (3, "2024-01-01"),
    (4, {"set": "member"}), (4, ["member"]), (4, 3), (4, "a b"), (4, "member:" + "x" * 600),
    (5, 2**70), (5, -1), (5, 1.0), (5, "3"), (5, True), (5, None), (5, [1]),
    (6, 2**63), (6, -5), (6, 9), (6, "0"),
    (7, 2**64), (7, -1), (7, 1e30), (7, None),
]


def _bad_tokens(key: bytes) -> list[str]:
    tokens = []
    for index, value in BAD_FIELDS:
        fields = list(GOOD)
        fields[index] = value
        tokens.append(_sign(key, fields))
    tokens += [_sign(key, GOOD[:7]), _sign(key, GOOD + [0]), _sign(key, {"a": 1}),
               _sign(key, "text"), _sign(key, None), _sign(key, 1),
               _sign(key, [[[[[[[[[[[[1]]]]]]]]]]]]),
               _sign(key, [1, "oai_dc", "2024-02-01T00:00:00Z", "2024-01-01T00:00:00Z", None,
                           0, 0, 8])]  # from after until
    return tokens


@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_forged_tokens_are_bad_resumption_tokens(site: Published, verb: str) -> None:
    key = _stored_key(site)
    assert key != _old_key(site.config.catalog.base_uri) and len(key) >= 32
    forged = [
        _sign(_old_key(site.config.catalog.base_uri), GOOD),  # anyone could make these
        *_bad_tokens(_old_key(site.config.catalog.base_uri)),  # before: 500s from SQLite
        _sign(b"guess", GOOD),
        GOOD_TOKEN_SHAPE := f"{_b64(json.dumps(GOOD).encode())}.{_b64(b'x' * 12)}",
        GOOD_TOKEN_SHAPE.split(".")[0], "", ".", "..", "a.b", "%%%", "\u00e9.\u00e9",
        "A" * 5000 + "." + "A" * 16,
        # Signed with the real key, yet not what the provider writes: checked all the same.
        *_bad_tokens(key),
    ]
    with requests.Session() as session:
        for token in forged:
            for post in (False, True):
                root = _oai(site, session, {"verb": verb, "resumptionToken": token}, post=post)
                assert _error(root) == "badResumptionToken", (token[:80], post)


def test_genuine_tokens_page_to_the_end_and_a_flipped_byte_is_refused(site: Published) -> None:
    with requests.Session() as session:
        root = _oai(site, session, {"verb": "ListRecords", "metadataPrefix": "oai_dc"})
        seen = len(root.findall(f".//{OAI}record"))
        token = root.findtext(f".//{OAI}resumptionToken")
        assert token  # page_size 3 of 8 records
        first = token
        while token:
            root = _oai(site, session, {"verb": "ListRecords", "resumptionToken": token})
            seen += len(root.findall(f".//{OAI}record"))
            token = root.findtext(f".//{OAI}resumptionToken")
        assert seen == 8
        body, _, tag = first.partition(".")
        flipped = body + "." + ("A" if tag[0] != "A" else "B") + tag[1:]
        root = _oai(site, session, {"verb": "ListRecords", "resumptionToken": flipped})
        assert _error(root) == "badResumptionToken"


def test_the_token_key_is_kept_in_the_store_across_restarts(tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    with caplog.at_level(logging.WARNING), published(tmp_path) as first:
        r = requests.get(first.url + "oai", params={"verb": "ListIdentifiers",
                                                     "metadataPrefix": "lom"}, timeout=10)
        token = etree.fromstring(r.content).findtext(f".//{OAI}resumptionToken")
        key = _stored_key(first)
        assert token
        # The same catalogue served again (a restart, or a second server): the token still works.
        from eduxchange.publish.server import make_app
        from eduxchange.store.sqlite import ReadOnlySQLiteStore
        store = ReadOnlySQLiteStore(first.config.catalog.store)
        try:
            again = make_app(first.config, store)
            status: list[str] = []
            body = b"".join(again({"REQUEST_METHOD": "GET", "PATH_INFO": "/oai",
                                   "QUERY_STRING": urllib.parse.urlencode(
                                       {"verb": "ListIdentifiers", "resumptionToken": token}),
                                   "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80",
                                   "wsgi.url_scheme": "http"},
                                  lambda s, h, e=None: status.append(s)))
        finally:
            store.close()
        assert status[0].startswith("200") and _error(etree.fromstring(body)) is None
        assert _stored_key(first) == key
    assert not [r for r in caplog.records if "token key" in r.getMessage()]
