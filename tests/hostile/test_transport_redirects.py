"""Redirects stay within the member; transport failures are named for what they are.

Issue 9, item 5: requests followed any redirect, so another host's content was stored
as the member's, https -> http was followed, and a loop, a ``file://`` target or a
broken gzip body ended as "internal error ... please report it". Every server here is
real, on loopback; 127.0.0.2 is "another host".
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

import eduxchange
from eduxchange.core.config import HarvestSettings
from eduxchange.core.errors import RedirectRefused, TransportError
from eduxchange.harvesting.transport import HttpTransport, redirect_target
from tests.conftest import ConfigMaker
from tests.support.hostile_transport import serve_hostile_transport
from tests.support.lomgen import make_records

FAST = {"timeout": 2, "max_retries": 1, "backoff": 0.05, "max_backoff": 0.1,
        "requests_per_second": 1000}


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


def stored(config: eduxchange.Config, member: str) -> list[str]:
    with eduxchange.open_store(config) as store:
        return [r.identifier for r in store.iter_records(member)]


def to(base: str):  # type: ignore[no-untyped-def]
    """A Location keeping the request's path and query, on another base URL."""
    return lambda path: base + path


def test_a_redirect_to_another_host_is_refused_and_nothing_is_fetched(
        make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as member:
        # "another host": a real member at 127.0.0.2, with other content
        with serve_hostile_transport(records(7), host="127.0.0.2") as other:
            member.redirect(to(other.base), verb="ListRecords")
            config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                                 harvest=FAST)
            (result,) = eduxchange.harvest(config)
            assert result.state == "failed"
            error = result.error or ""
            assert "outside the member's endpoint" in error and other.base in error
            assert f'"{other.base}" to its allow_redirects_to' in error
            assert "internal error" not in error
            assert other.paths == [] and stored(config, "m") == []


def test_a_redirect_listed_in_allow_redirects_to_is_followed_and_noted(
        make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as member, \
            serve_hostile_transport(records(5), host="127.0.0.2") as mirror:
        member.redirect(to(mirror.base))
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom",
                               "allow_redirects_to": [mirror.base + "/oai"]}], harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.ok, result.error
        assert result.new == 5 and len(mirror.requests) >= 2
        notes = [i for i in result.issues if i.code == "redirect"]
        assert len(notes) == 1 and "allowed by allow_redirects_to" in notes[0].message
        assert notes[0].severity == "warning"


def test_an_allowed_prefix_does_not_allow_the_rest_of_that_host() -> None:
    with pytest.raises(RedirectRefused):
        redirect_target("http://a.example/oai", "http://a.example/oai?verb=Identify",
                        "http://b.example/private/oai", ("http://b.example/oai",))
    assert redirect_target("http://a.example/oai", "http://a.example/oai",
                           "http://b.example/oai/v2?verb=Identify", ("http://b.example/oai",)
                           ) == "http://b.example/oai/v2?verb=Identify"


def test_a_redirect_within_the_member_is_followed(make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as member:
        # the configured endpoint moved on the same host: every request there is redirected
        member.redirect(lambda path: path.replace("/old-oai", "/oai", 1), status=308,
                        path="/old-oai")
        config = make_config([{"id": "m", "endpoint": member.base + "/old-oai",
                               "metadata_prefix": "lom"}], harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.ok, result.error
        assert result.new == 5
        notes = [i.message for i in result.issues if i.code == "redirect"]
        assert len(notes) == 1 and "the same host" in notes[0]


@pytest.mark.parametrize(("location", "expected"), [
    ("file:///etc/passwd", "not an http(s) URL"),
    ("ftp://127.0.0.1/oai", "not an http(s) URL"),
    ("", "without a Location header"),
    ("http://[::1/oai", "malformed Location"),
])
def test_a_redirect_to_another_scheme_is_refused_by_name(
        make_config: ConfigMaker, location: str, expected: str) -> None:
    with serve_hostile_transport(records(5)) as member:
        member.redirect(location, verb="Identify")
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed" and expected in (result.error or "")
        assert "internal error" not in (result.error or "")
        (run,) = eduxchange.harvest_log(config)
        assert run.state == "failed"


def test_a_redirect_loop_is_detected(make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as member:
        # /oai -> /a -> /oai -> ...
        member.redirect(lambda path: path.replace("/oai", "/a") if path.startswith("/oai")
                        else path.replace("/a", "/oai"), verb="Identify")
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed" and "redirect loop" in (result.error or "")
        assert len(member.paths) == 2


def test_endless_distinct_redirects_are_capped() -> None:
    with serve_hostile_transport(records(1)) as member:
        member.redirect(lambda path: path + "x")
        with HttpTransport(HarvestSettings(**FAST)) as transport:  # type: ignore[arg-type]
            with pytest.raises(RedirectRefused, match="more than 5 redirects"):
                transport.get(member.url, {"verb": "Identify"})
        assert len(member.paths) == 6


def test_https_to_http_is_never_followed_even_when_allowed() -> None:
    with pytest.raises(RedirectRefused, match="downgrade"):
        redirect_target("https://oai.example.org/oai", "https://oai.example.org/oai?verb=x",
                        "http://oai.example.org/oai?verb=x", ("http://oai.example.org",))
    # an upgrade to https on the same host is another scheme: it needs allowing too
    with pytest.raises(RedirectRefused, match="allow_redirects_to"):
        redirect_target("http://oai.example.org/oai", "http://oai.example.org/oai",
                        "https://oai.example.org/oai")
    assert redirect_target("http://oai.example.org/oai", "http://oai.example.org/oai",
                           "https://oai.example.org/oai", ("https://oai.example.org",)
                           ) == "https://oai.example.org/oai"


def test_broken_gzip_is_a_named_transport_error(make_config: ConfigMaker) -> None:
    with serve_hostile_transport(records(5)) as member:
        member.broken_gzip(verb="ListRecords")
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed"
        assert "Content-Encoding could not be decoded" in (result.error or "")
        assert not any(i.code == "internal-error" for i in result.issues)
    with serve_hostile_transport(records(1)) as member:
        member.broken_gzip()
        with HttpTransport(HarvestSettings(**FAST)) as transport:  # type: ignore[arg-type]
            with pytest.raises(TransportError, match="broken compressed body"):
                transport.get(member.url, {"verb": "Identify"})


def test_allow_redirects_to_is_validated(make_config: ConfigMaker) -> None:
    with pytest.raises(eduxchange.ConfigError, match="allow_redirects_to"):
        make_config([{"id": "m", "endpoint": "http://127.0.0.1:9/oai",
                      "allow_redirects_to": ["file:///etc"]}])
    with pytest.raises(eduxchange.ConfigError, match="allow_redirects_to"):
        make_config([{"id": "m", "endpoint": "http://127.0.0.1:9/oai",
                      "allow_redirects_to": "http://127.0.0.2"}])
    config = make_config([{"id": "m", "endpoint": "http://127.0.0.1:9/oai",
                           "allow_redirects_to": ["http://127.0.0.2:8080"]}])
    assert config.members[0].settings.allow_redirects_to == ("http://127.0.0.2:8080",)


def test_a_url_that_cannot_be_sent_is_a_transport_error() -> None:
    with HttpTransport(HarvestSettings(**FAST)) as transport:  # type: ignore[arg-type]
        with pytest.raises(TransportError, match="No host supplied"):
            transport.get("http://", {"verb": "Identify"})
