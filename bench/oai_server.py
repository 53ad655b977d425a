"""A fast loopback OAI-PMH server for benchmarks: N generated LOM records, P per page.

Pages are built on request from the deterministic generator in tests/support, so
the server holds no harvest in memory and costs every client the same.

    python bench/oai_server.py --records 20000 --page-size 100
    # prints the base URL on stdout, serves until killed
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.lomgen import lom_xml, record_identifier  # noqa: E402

START = datetime(2020, 1, 1)
HEAD = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
        b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        b'xsi:schemaLocation="http://www.openarchives.org/OAI/2.0/ '
        b'http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd">'
        b"<responseDate>2026-01-01T00:00:00Z</responseDate>")


def stamp(i: int) -> bytes:
    return (START + timedelta(seconds=i)).strftime("%Y-%m-%dT%H:%M:%SZ").encode()


class Handler(BaseHTTPRequestHandler):
    records = 0
    page_size = 100

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
            start = int(args.get("resumptionToken", "p0")[1:])
            end = min(start + self.page_size, self.records)
            parts = [b"<ListRecords>"]
            for i in range(start, end):
                parts += [b"<record><header><identifier>", record_identifier(i + 1).encode(),
                          b"</identifier><datestamp>", stamp(i), b"</datestamp></header><metadata>",
                          lom_xml(i + 1), b"</metadata></record>"]
            token = f"p{end}".encode() if end < self.records else b""
            parts.append(b'<resumptionToken completeListSize="%d" cursor="%d">%s</resumptionToken>'
                         % (self.records, start, token))
            parts.append(b"</ListRecords>")
            body = b"".join(parts)
        else:
            body = b'<error code="badVerb">unsupported here</error>'
        data = HEAD + req + body + b"</OAI-PMH>"
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
    args = parser.parse_args()
    Handler.records, Handler.page_size = args.records, args.page_size
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"http://127.0.0.1:{server.server_address[1]}/oai", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
