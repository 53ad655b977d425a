"""Where a store's bytes are: each table and index, in bytes per record (issue 10: <= 6 KB).

SQLite's own accounting (the ``dbstat`` virtual table: every page of the file, by the table
or index it belongs to), divided by the number of raw records; ``sqlite3_analyzer`` says the
same at more length but is rarely installed. The write-ahead log is checkpointed first, so
the file holds every page.

    python bench/disk_bytes.py path/to/catalog.sqlite [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path


def disk_bytes(path: Path) -> tuple[int, dict[str, int], int]:
    """``(records, {table or index: bytes}, file bytes)`` of the store at ``path``."""
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (records,) = conn.execute("SELECT COUNT(*) FROM records").fetchone()
        sizes = {name: int(size) for name, size in conn.execute(
            "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC")}
        page_size, pages = (conn.execute(f"PRAGMA {p}").fetchone()[0]
                            for p in ("page_size", "page_count"))
    finally:
        conn.close()
    return int(records), sizes, int(page_size) * int(pages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("store", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    records, sizes, total = disk_bytes(args.store)
    n = max(records, 1)
    if args.json:
        print(json.dumps({"records": records, "file_bytes_per_record": round(total / n),
                          "bytes_per_record": {k: round(v / n) for k, v in sizes.items()}},
                         indent=1))
        return
    print(f"{records} records; the file: {total / n:,.0f} bytes a record")
    for name, size in sizes.items():
        if size / n >= 1:
            print(f"  {name:36s} {size / n:8,.0f}")


if __name__ == "__main__":
    main()
