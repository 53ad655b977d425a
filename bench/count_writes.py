"""Run the eduxchange CLI and count what it writes to SQLite: rows changed (each
connection's ``total_changes``) and write statements by table (a trace callback).

    python bench/count_writes.py OUT.json harvest --config alliance.toml --json

Writes ``{"rows_changed": N, "statements": {"INSERT resources": n, ...}}`` to OUT.json;
the CLI's own output goes where it always goes. The trace callback slows the run down:
its time is not a figure, the benchmarks time the plain CLI.
"""

from __future__ import annotations

import json
import re
import sqlite3
import sys
import weakref
from collections import Counter
from typing import Any

_WRITE = re.compile(r"^\s*(INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|"
                    r"DELETE\s+FROM)\s+[\"']?(\w+)", re.I)
statements: Counter[str] = Counter()
closed_changes = 0
live: weakref.WeakSet[Counting] = weakref.WeakSet()


def _trace(sql: str) -> None:
    match = _WRITE.match(sql)
    if match:
        statements[f"{match.group(1).split()[0].upper()} {match.group(2)}"] += 1


class Counting(sqlite3.Connection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.set_trace_callback(_trace)
        live.add(self)

    def close(self) -> None:
        global closed_changes
        try:
            closed_changes += self.total_changes
        except sqlite3.ProgrammingError:  # closed already
            pass
        live.discard(self)
        super().close()


def main() -> int:
    out, args = sys.argv[1], sys.argv[2:]
    connect = sqlite3.connect

    def counting_connect(*a: Any, **k: Any) -> sqlite3.Connection:
        return connect(*a, factory=Counting, **k)

    sqlite3.connect = counting_connect  # type: ignore[assignment]
    from eduxchange_cli.main import main as cli

    code = 0
    try:
        cli.main(args=args, standalone_mode=False)
    except SystemExit as exit_:
        code = int(exit_.code or 0)
    rows = closed_changes + sum(c.total_changes for c in list(live))
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"rows_changed": rows, "statements": dict(statements.most_common())}, f,
                  indent=1)
    return code


if __name__ == "__main__":
    sys.exit(main())
