"""The backend contract suite: every method of ``store/base.py``'s protocols, on every backend.

The tests speak only the protocols (:class:`~eduxchange.store.base.CatalogStore`, its readers
and :class:`~eduxchange.store.base.CatalogTxn`): no SQL, no backend internals. Each test runs once
per backend, through these fixtures:

``make_store`` (a :class:`StoreFactory`)
    ``make_store()`` opens a **new handle** on the test's own, initially empty store;
    ``make_store(read_only=True)`` a read-only handle on it (tests needing one skip when the
    backend has none). Handles share the data, not their connections, so a test can have a
    writer and a reader, or two writers, in different threads. ``make_store.backend`` is the
    backend's name and ``make_store.target`` what a handle opens (a file path, a URL), so a
    child process can open the same store with
    :func:`tests.store_contract.backends.open_backend`. Every handle is closed after the test.
``store``
    One read-write handle (``make_store()``).

Backends
--------
``sqlite``
    A fresh file ``catalog.sqlite`` in the test's ``tmp_path``, opened by
    :func:`eduxchange.store.backends.open_catalog_store` (read-only handles:
    :func:`~eduxchange.store.backends.open_store_reader`).
``postgresql``
    Skipped, with the reason, unless ``EDUXCHANGE_TEST_POSTGRES`` names a database URL (e.g.
    ``postgresql://root@127.0.0.1:5432/test``), the module ``eduxchange.store.postgres`` can be
    imported, and psycopg is installed. What the backend must offer for this suite:

    - ``eduxchange.store.postgres.PostgresStore(url)`` opens a store, creating and migrating its
      schema on first use, and ``close()`` releases every connection it holds (the suite then
      drops the schema, which waits for open connections);
    - its tables live in the **first schema of the connection's ``search_path``**, created
      unqualified: each test gets a fresh schema ``edx_contract_<hex>``, created here, and the
      URL it opens carries it as a libpq option, e.g.
      ``postgresql://root@127.0.0.1:5432/test?options=-csearch_path%3Dedx_contract_1a2b``
      (the URL must reach libpq unchanged; two handles on one URL share the data). The schema
      is dropped (``CASCADE``) after the test, so parallel runs never collide;
    - a read-only handle, optional: ``PostgresStore(url, read_only=True)``, with every method
      of :class:`~eduxchange.store.base.StoreReader` and no write that succeeds;
    - ``harvest_lock()`` excludes other handles of the same store, in this process or another;
    - a child process opening the same URL (``tests.store_contract.backends.open_backend``) sees
      the same store, and a handle of a process killed mid-commit leaves nothing half-written.

Modules: ``test_harvest_state`` (member state, runs, log, lock), ``test_pages`` (commit_page
and the records), ``test_model`` and ``test_catalog_model`` (hypothesis against small models),
``test_catalog_txn`` (the catalogue transaction), ``test_catalog_readers`` (resources, reports,
search), ``test_concurrency`` (keyset paging under concurrent writers, a killed writer),
``test_handles`` (handles, read-only handles, protocol completeness), ``test_readers`` (the
publishing readers of the seam: a store lacking one skips its test, naming it).
"""

from __future__ import annotations

import os
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .backends import BACKENDS, open_backend, postgres_module, read_only_supported

#: The environment variable naming the PostgreSQL server's database URL.
POSTGRES_ENV = "EDUXCHANGE_TEST_POSTGRES"


class StoreFactory:
    """Opens handles on one test's store (see the module docstring)."""

    def __init__(self, backend: str, target: str) -> None:
        self.backend = backend
        self.target = target
        self._handles: list[Any] = []

    def __call__(self, *, read_only: bool = False) -> Any:
        if read_only and not read_only_supported(self.backend):
            pytest.skip(f"the {self.backend} backend offers no read-only handle")
        handle = open_backend(self.backend, self.target, read_only=read_only)
        self._handles.append(handle)
        return handle

    def close(self) -> None:
        """Close every handle opened (a test may have closed some already)."""
        for handle in reversed(self._handles):
            try:
                handle.close()
            except Exception:  # noqa: BLE001 - closing twice must not hide the test's outcome
                pass
        self._handles.clear()


def _with_search_path(url: str, schema: str) -> str:
    """``url`` with ``options=-csearch_path=<schema>`` added to its query (libpq URI form)."""
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    options = " ".join([v for k, v in query if k == "options"] + [f"-csearch_path={schema}"])
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _postgres_url_or_skip() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (a PostgreSQL database URL, e.g. "
                    "postgresql://root@127.0.0.1:5432/test)")
    try:
        if getattr(postgres_module(), "PostgresStore", None) is None:
            raise ImportError("it has no class PostgresStore")
    except ImportError as err:
        pytest.skip(f"no PostgreSQL backend in this checkout (eduxchange.store.postgres: {err})")
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("psycopg is not installed (the suite creates a schema per test with it)")
    return url


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The backend's name; the postgresql parameter skips when it cannot run (see above)."""
    name: str = request.param
    return name


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> Iterator[StoreFactory]:
    """A factory of handles on a fresh, empty store of ``backend``."""
    if backend == "sqlite":
        factory = StoreFactory(backend, str(tmp_path / "catalog.sqlite"))
        try:
            yield factory
        finally:
            factory.close()
        return
    url = _postgres_url_or_skip()
    import psycopg

    schema = f"edx_contract_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
    factory = StoreFactory(backend, _with_search_path(url, schema))
    try:
        yield factory
    finally:
        factory.close()
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def store(make_store: StoreFactory) -> Any:
    """One read-write handle on the test's fresh store."""
    return make_store()
