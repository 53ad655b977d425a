"""A fast loopback OAI-PMH server for benchmarks: N generated LOM records, P per page.

Pages are built on request from the deterministic generator in tests/support, so
the server holds no harvest in memory and costs every client the same.

    python bench/oai_server.py --records 20000 --page-size 100
    # prints the base URL on stdout, serves until killed

``--generation G`` simulates a member's edits, for incremental harvests: in generation
``k <= G`` the records ``i`` with ``i % 100 == k - 1`` (1% of them) were edited: a changed
title and a datestamp on day ``k`` of 2026 (after every record of generation 0), and
``responseDate`` is day ``G`` of 2026. ``from`` selects by datestamp (OAI-PMH 2.0 §3.3.1), so
a harvest from the previous generation's ``responseDate`` lists that generation's edits only.

``--offset K`` serves records ``K+1 ...`` instead of ``1 ...`` (several members that describe
different resources), ``--delay S`` waits S seconds before answering each ListRecords page (a
member slower than loopback; the workers benchmark).
"""

from __future__ import annotations

import argparse
import sys
import time
from array import array
from bisect import bisect_left
from collections.abc import Sequence
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lomgen import lom_xml, record_identifier  # noqa: E402

START = datetime(2020, 1, 1)
EDITS = datetime(2026, 1, 1)
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
        b'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
        b"<responseDate>%s</responseDate>")


def edited_in(i: int, generation: int) -> int:
    """The generation that last edited record ``i`` (0: never)."""
    return i % 100 + 1 if i % 100 < generation else 0


def record_stamp(i: int, generation: int) -> str:
    """Record ``i``'s datestamp in ``generation`` (``i`` counts from 0)."""
    k = edited_in(i, generation)
    when = EDITS + timedelta(days=k, seconds=i // 100) if k else START + timedelta(seconds=i)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def record_xml(i: int, generation: int, offset: int = 0) -> bytes:
    k = edited_in(i, generation)
    xml = lom_xml(i + 1 + offset)
    if k:  # an edit the catalogue must notice: a second title string
        xml = xml.replace(b"<title>", b'<title><string language="de">Fassung %d</string>' % k, 1)
    return xml


def list_order(records: int, generation: int) -> Sequence[int]:
    """The records in datestamp order: the unedited ones, then each generation's edits."""
    if generation == 0:
        return range(records)
    order = array("l", (i for i in range(records) if not edited_in(i, generation)))
    order.extend(sorted((i for i in range(records) if edited_in(i, generation)),
                        key=lambda i: (edited_in(i, generation), i)))
    return order


class Handler(BaseHTTPRequestHandler):
    records = 0
    page_size = 100
    generation = 0
    offset = 0
    delay = 0.0
    order: Sequence[int] = range(0)

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        args = {k: v[0] for k, v in parse_qs(urlsplit(self.path).query).items()}
        verb = args.get("verb")
        req = f'<request verb="{verb}">http://127.0.0.1/oai</request>'.encode()
        if verb == "Identify":
            body = (b"<Identify><repositoryName>bench</repositoryName>"
                    b"<baseURL>http://127.0.0.1/oai</baseURL><protocolVersion>2.0</protocolVersion>"
                    b"<adminEmail>bench@example.org</adminEmail>"
                    b"<earliestDatestamp>2020-01-01T00:00:00Z</earliestDatestamp>"
                    b"<deletedRecord>persistent</deletedRecord>"
                    b"<granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>")
        elif verb == "ListMetadataFormats":
            body = (b"<ListMetadataFormats><metadataFormat><metadataPrefix>lom</metadataPrefix>"
                    b"<schema>http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd</schema>"
                    b"<metadataNamespace>http://ltsc.ieee.org/xsd/LOM</metadataNamespace>"
                    b"</metadataFormat></ListMetadataFormats>")
        elif verb == "ListRecords":
            if self.delay:
                time.sleep(self.delay)
            g, order = self.generation, self.order
            if "resumptionToken" in args:
                start = int(args["resumptionToken"][1:].split(":")[0])
            elif "from" in args:
                start = bisect_left(order, args["from"], key=lambda i: record_stamp(i, g))
            else:
                start = 0
            first = int(args.get("resumptionToken", f"p{start}:{start}")[1:].split(":")[-1])
            end = min(start + self.page_size, len(order))
            if start >= end:
                body = b'<error code="noRecordsMatch">no records match</error>'
            else:
                parts = [b"<ListRecords>"]
                for i in (order[n] for n in range(start, end)):
                    parts += [b"<record><header><identifier>",
                              record_identifier(i + 1 + self.offset).encode(),
                              b"</identifier><datestamp>", record_stamp(i, g).encode(),
                              b"</datestamp></header><metadata>",
                              record_xml(i, g, self.offset),
                              b"</metadata></record>"]
                token = f"p{end}:{first}".encode() if end < len(order) else b""
                parts.append(b'<resumptionToken completeListSize="%d" cursor="%d">%s'
                             b"</resumptionToken>" % (len(order) - first, start - first, token))
                parts.append(b"</ListRecords>")
                body = b"".join(parts)
        else:
            body = b'<error code="badVerb">unsupported here</error>'
        now = (EDITS + timedelta(days=self.generation, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        data = HEAD % now.encode() + req + body + b"</OAI-PMH>"
        self.send_response(200)
        self.send_header("Content-Type", "text/xml; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--page-size", type=int, default=100)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--generation", type=int, default=0, choices=range(100),
                        metavar="G", help="edits made so far (0-99; see above)")
    parser.add_argument("--offset", type=int, default=0, metavar="K",
                        help="serve records K+1 ... (another member's resources)")
    parser.add_argument("--delay", type=float, default=0.0, metavar="SECONDS",
                        help="wait this long before each ListRecords page")
    args = parser.parse_args()
    Handler.records, Handler.page_size = args.records, args.page_size
    Handler.generation = args.generation
    Handler.offset, Handler.delay = args.offset, args.delay
    Handler.order = list_order(args.records, args.generation)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/oai", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
