"""Serve two sample alliance members on loopback, optionally around one command.

    python examples/sample_members.py                 # serve until Ctrl-C
    python examples/sample_members.py -- CMD [ARG...] # serve, run CMD, stop; exits with CMD's code

Member "lom-uni" (port 8765) is pyoai's own OAI-PMH server with 1,200 IEEE LOM
records; member "dc-repo" (port 8766) is a day-granular repository with 300
records in sets. Each run changes a few records (and deletes one), so a second
harvest has something incremental to fetch. Both are the same servers the test
suite uses (tests/support).
"""

from __future__ import annotations

import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.faulty import DAY, serve_faulty  # noqa: E402
from tests.support.lomgen import lom_xml, make_records  # noqa: E402
from tests.support.pyoai_member import serve_pyoai_member  # noqa: E402


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    lom = make_records(1200, start=datetime(2023, 9, 1), step=timedelta(hours=3),
                       sets=["math", "science", "languages"])
    dc = make_records(300, start=datetime(2024, 1, 1), step=timedelta(hours=7),
                      sets=["math", "physics", "history"], prefix="oai_dc")
    with ExitStack() as stack:
        uni = stack.enter_context(serve_pyoai_member(lom, batch_size=100, port=8765,
                                                     name="Sample Open University"))
        repo = stack.enter_context(serve_faulty(dc, page_size=50, granularity=DAY, port=8766,
                                                name="Sample repository"))
        # Something new since the last run: a few records change, one is deleted.
        tick = int(time.time()) % 1000
        for k in range(3):
            uni.backend.update(lom[(tick + k * 97) % len(lom)].identifier, metadata=lom_xml(tick + k))
        uni.backend.delete(lom[tick % len(lom)].identifier)
        print(f"sample members: lom-uni at {uni.url}, dc-repo at {repo.url}", file=sys.stderr)
        if command:
            return subprocess.call(command)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
