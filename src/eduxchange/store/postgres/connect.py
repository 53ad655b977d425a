"""Store URLs: ``postgresql://user@host[:port]/dbname[?schema=name&...]``.

The URL is a libpq connection URI (every libpq parameter works: ``sslmode``, ``options``,
``application_name``...). The catalogue's tables live in the first schema of the connection's
``search_path`` (``public`` by default), so several catalogues can share one database: either
with libpq's own ``options=-csearch_path%3Dname`` (the schema must exist), or with the one
parameter of ours, ``schema=name``, which is taken out of the URL before libpq sees it, sets
the ``search_path`` of every connection and is created on first use. The tests give each run
a schema of its own that way.

The password is never part of the URL (a config file is read by many and kept in version
control): it comes from ``EDUXCHANGE_STORE_PASSWORD``, or from libpq's own ``PGPASSWORD`` or
``~/.pgpass``; :func:`eduxchange.core.config.store_url_problem` refuses a URL with one.
"""

from __future__ import annotations

import os
import re
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from ...core.config import (
    STORE_PASSWORD_VARIABLE,
    STORE_URL_SCHEMES,
    is_store_url,
    masked_store_url,
    store_url_problem,
)
from ...core.errors import StoreError

__all__ = ["PASSWORD_VARIABLE", "SCHEMES", "Target", "is_postgres_url", "parse_url"]

#: URL schemes that select this backend (libpq accepts both).
SCHEMES: Final = STORE_URL_SCHEMES
#: The environment variable the password is read from (libpq's PGPASSWORD works as well).
PASSWORD_VARIABLE: Final = STORE_PASSWORD_VARIABLE

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")


def is_postgres_url(value: object) -> bool:
    """Whether ``value`` is a store URL of this backend (``postgresql://`` or ``postgres://``)."""
    return isinstance(value, str) and is_store_url(value)


class Target:
    """A parsed store URL: what to connect to, and in which schema."""

    __slots__ = ("conninfo", "schema", "label", "password")

    def __init__(self, conninfo: str, schema: str | None, label: str,
                 password: str | None) -> None:
        self.conninfo = conninfo
        self.schema = schema  # None: the search_path's first schema
        self.label = label  # the URL as users may see it (it holds no password)
        self.password = password


def parse_url(url: str) -> Target:
    """Read a store URL (see the module docstring); :class:`StoreError` when it is not one."""
    if not is_postgres_url(url):
        raise StoreError(f"not a PostgreSQL store URL: {url!r} (postgresql://user@host/dbname)")
    problem = store_url_problem(url)
    if problem:
        raise StoreError(f"the store URL {masked_store_url(url)} {problem}")
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [v for k, v in query if k == "schema"]
    schema = schemas[-1] if schemas else None
    if schema is not None and not _SCHEMA_NAME.match(schema):
        raise StoreError(f"store URL {url!r}: schema {schema!r} must be a plain SQL name "
                         "(letters, digits, _; at most 63)")
    conninfo = url  # libpq reads it as it is, unless it has our schema parameter
    if schema is not None:
        rest = [(k, v) for k, v in query if k != "schema"]
        conninfo = urlunsplit((parts.scheme, parts.netloc, parts.path,
                               urlencode(rest, quote_via=quote), parts.fragment))
    return Target(conninfo, schema, url, os.environ.get(PASSWORD_VARIABLE) or None)

