"""A loopback OAI-PMH member that replays responses a real repository recorded.

For the format tests (issue 11, items 8-11): ``Identify`` and ``ListMetadataFormats`` answer
with recorded bodies, ``ListRecords`` answers with the body recorded for the asked prefix (its
``resumptionToken`` dropped, so one page is the whole list) or ``cannotDisseminateFormat``.
The requests are remembered, so a test can see which prefix the harvester chose.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support._net import HOST, LoopbackHTTPServer, parse_args, running

__all__ = ["Replay", "serve_replay"]

_TOKEN = re.compile(rb"<resumptionToken[^>]*>[^<]*</resumptionToken>|<resumptionToken[^>]*/>")
_ERROR = (b'<?xml version="1.0" encoding="UTF-8"?>'
          b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
          b'2026-01-01T00:00:00Z</responseDate><request>%s</request>'
          b'<error code="%s">%s</error></OAI-PMH>')


@dataclass
class Replay:
    """What the member answers: recorded bodies by verb, ListRecords bodies by prefix."""

    identify: bytes
    formats: bytes
    records: Mapping[str, bytes]
    requests: list[dict[str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def respond(self, args: Mapping[str, list[str]]) -> bytes:
        flat = {k: v[0] for k, v in args.items() if v}
        with self.lock:
            self.requests.append(flat)
        verb = flat.get("verb", "")
        if verb == "Identify":
            return self.identify
        if verb == "ListMetadataFormats":
            return self.formats
        if verb == "ListRecords":
            if "resumptionToken" in flat:
                return _ERROR % (self.url.encode(), b"badResumptionToken", b"no such token")
            body = self.records.get(flat.get("metadataPrefix", ""))
            if body is None:
                return _ERROR % (self.url.encode(), b"cannotDisseminateFormat",
                                 b"not recorded for this prefix")
            return _TOKEN.sub(b"", body)
        return _ERROR % (self.url.encode(), b"badVerb", b"not replayed")

    @property
    def prefixes(self) -> list[str]:
        """The metadataPrefix of every ListRecords request, in order."""
        with self.lock:
            return [r["metadataPrefix"] for r in self.requests
                    if r.get("verb") == "ListRecords" and "metadataPrefix" in r]


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            query = self.path.partition("?")[2]
            if self.command == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                query = self.rfile.read(length).decode("utf-8", "replace")
            body = replay.respond(parse_args(query))
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

    return Handler


@contextmanager
def serve_replay(identify: bytes, formats: bytes, records: Mapping[str, bytes]) -> Iterator[Replay]:
    """Serve ``records`` (prefix -> recorded ListRecords body) on 127.0.0.1, an ephemeral port."""
    replay = Replay(identify=identify, formats=formats, records=records)
    server = LoopbackHTTPServer((HOST, 0), _handler(replay))
    replay.url = f"http://{HOST}:{server.server_port}/oai"
    with running(server):
        yield replay
