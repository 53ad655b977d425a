"""A harvest worker process that freezes itself (``SIGSTOP``) in the worst place a worker can
be frozen: right after its lease check for a page passed, before that page's commit.

``python -m tests.support.frozen_worker CONFIG FREEZE_AT TTL`` runs one
:func:`eduxchange.workers.work` round (no normalization) and stops itself just after the
``FREEZE_AT``-th successful :meth:`~eduxchange.workers.Lease.check` of a member lease. The test
then lets the lease expire, has another worker take the member over, and continues this one
(``SIGCONT``): only the store's fence on the commit stands between it and a page written next
to the new holder's. It prints its results (JSON) when it ends.
"""

from __future__ import annotations

import json
import signal
import sys
import threading

from eduxchange import load_config
from eduxchange.workers import Lease, work


def main() -> None:
    config_path, freeze_at, ttl_s = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    checked = 0
    check = Lease.check

    def check_then_freeze(lease: Lease) -> None:
        nonlocal checked
        check(lease)
        checked += 1
        if checked == freeze_at:
            # Directed at this thread, so that it is the one that stops at once (the whole
            # process stops, heartbeat included); sent to the process, the kernel may hand
            # it to another thread while this one runs on into the commit.
            signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)

    Lease.check = check_then_freeze  # type: ignore[method-assign]
    results = work(load_config(config_path), ttl_s=ttl_s, wait_for_others=False,
                   normalize=False)
    print(json.dumps([r.to_dict() for r in results]))


if __name__ == "__main__":
    main()
