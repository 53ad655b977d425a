"""Test support: OAI-PMH member repositories to harvest in tests and benchmarks.

* :mod:`tests.support.records` -- :class:`MemberRecord` and the shared in-memory store.
* :mod:`tests.support.lomgen` -- deterministic, realistic IEEE LOM records.
* :mod:`tests.support.pyoai_member` -- a member served by pyoai's own server code.
* :mod:`tests.support.faulty` -- our own scriptable, fault-injecting OAI-PMH server.

Every server listens on 127.0.0.1 on a free port and only runs inside a
context manager that shuts it down (and joins its threads) on exit.
"""
