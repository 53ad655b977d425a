"""Work for tests/test_parallel.py's worker processes: light to import, dies on 13 and 37."""

from __future__ import annotations

import os

from eduxchange.catalog.parallel import in_worker

#: The items that kill the worker process given them.
KILLERS = (13, 37)


def double(batch: list[int]) -> list[int]:
    """Each item doubled; a worker given one of :data:`KILLERS` dies as a crash would."""
    if in_worker() and any(i in KILLERS for i in batch):
        os._exit(3)
    return [2 * i for i in batch]
