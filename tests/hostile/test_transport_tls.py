"""https members: certificates still verified, no downgrade, a trickled TLS handshake bounded.

Real TLS servers on loopback with certificates from ``trustme``; the client trusts
the test CA through ``REQUESTS_CA_BUNDLE``, as an operator with a private CA would.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import trustme

import eduxchange
from tests.conftest import ConfigMaker
from tests.support.hostile_transport import (
    serve_hostile_transport,
    serve_trickling_proxy,
    server_tls,
)
from tests.support.lomgen import make_records

FAST = {"timeout": 0.6, "max_retries": 1, "backoff": 0.05, "max_backoff": 0.1,
        "requests_per_second": 1000}


def records(n: int) -> list:  # type: ignore[type-arg]
    return make_records(n, start=datetime(2024, 1, 1), step=timedelta(minutes=1))


@pytest.fixture
def ca(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[trustme.CA]:
    authority = trustme.CA()
    bundle = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    yield authority


def test_an_https_member_is_harvested(make_config: ConfigMaker, ca: trustme.CA) -> None:
    with serve_hostile_transport(records(5), tls=server_tls(ca)) as member:
        assert member.url.startswith("https://")
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.ok, result.error
        assert result.new == 5


def test_a_certificate_from_an_unknown_ca_is_still_refused(make_config: ConfigMaker,
                                                           ca: trustme.CA) -> None:
    with serve_hostile_transport(records(5), tls=server_tls(trustme.CA())) as member:
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom"}],
                             harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed" and "CERTIFICATE_VERIFY_FAILED" in (result.error or "")


def test_https_to_http_is_refused_even_when_allowed(make_config: ConfigMaker,
                                                    ca: trustme.CA) -> None:
    with serve_hostile_transport(records(5), tls=server_tls(ca)) as member, \
            serve_hostile_transport(records(5)) as plain:
        member.redirect(lambda path: plain.base + path, verb="ListRecords")
        config = make_config([{"id": "m", "endpoint": member.url, "metadata_prefix": "lom",
                               "allow_redirects_to": [plain.base]}], harvest=FAST)
        (result,) = eduxchange.harvest(config)
        assert result.state == "failed" and "downgrade is never followed" in (result.error or "")
        assert plain.paths == []


def test_a_trickled_tls_handshake_ends_at_the_timeout(make_config: ConfigMaker,
                                                      ca: trustme.CA) -> None:
    # The proxy sends the server's handshake back a byte every 20 ms (about 20 s in all).
    with serve_hostile_transport(records(5), tls=server_tls(ca)) as member:
        port = int(member.base.rsplit(":", 1)[1])
        with serve_trickling_proxy(("127.0.0.1", port), interval=0.02) as (host, proxy_port):
            endpoint = f"https://{host}:{proxy_port}/oai"
            config = make_config([{"id": "m", "endpoint": endpoint, "metadata_prefix": "lom"}],
                                 harvest=FAST)
            started = time.monotonic()
            (result,) = eduxchange.harvest(config)
            assert time.monotonic() - started < 4
            assert result.state == "failed"
            # The watchdog's cut, or (on a loaded machine, when the proxy's thread stalls
            # between two bytes for longer than that) the socket's own read timeout: either
            # way the timeout of 0.6 s ended it.
            error = result.error or ""
            assert ("no complete response within timeout (0.6 s)" in error
                    or "read timeout=0.6" in error), error
