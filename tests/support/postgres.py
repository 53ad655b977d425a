"""A fresh PostgreSQL schema per test, on the server ``EDUXCHANGE_TEST_POSTGRES`` names.

The store URL a test gets carries ``schema=<fresh name>`` (the store's own URL parameter,
:mod:`eduxchange.store.postgres.connect`): the store creates the schema on first use; the
fixture drops it afterwards, so parallel runs on one database never see each other's tables.
Tests skip, saying why, when the variable is not set or psycopg is not installed.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import pytest

__all__ = ["POSTGRES_ENV", "postgres_url", "fresh_schema_url"]

POSTGRES_ENV = "EDUXCHANGE_TEST_POSTGRES"


def _server_or_skip() -> str:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        pytest.skip(f"{POSTGRES_ENV} is not set (a PostgreSQL database URL, e.g. "
                    "postgresql://postgres@127.0.0.1:5432/test)")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install '.[postgresql]')")
    return url


def fresh_schema_url(server: str, schema: str) -> str:
    """``server`` (a database URL) with the store's ``schema`` parameter."""
    return f"{server}{'&' if '?' in server else '?'}schema={schema}"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A store URL in a schema of this test's own, dropped after it."""
    server = _server_or_skip()
    import psycopg

    schema = f"edx_test_{secrets.token_hex(6)}"
    try:
        yield fresh_schema_url(server, schema)
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
