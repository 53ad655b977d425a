"""Open a store of the contract suite's backends by name and target (no pytest here).

A plain module, so that a child process (the crash tests) opens the very store the test
opened: ``open_backend(backend, target)`` with the ``backend`` and ``target`` of the
:class:`~tests.store_contract.conftest.StoreFactory`.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

__all__ = ["BACKENDS", "open_backend", "postgres_module", "read_only_supported"]

#: The backends the suite is parametrised over.
BACKENDS = ("sqlite", "postgresql")


def postgres_module() -> Any:
    """``eduxchange.store.postgres`` (ImportError when this checkout has no such backend)."""
    return importlib.import_module("eduxchange.store.postgres")


def _postgres_class(module: Any, name: str) -> Any:
    cls = getattr(module, name, None)
    return cls if inspect.isclass(cls) else None


def read_only_supported(backend: str) -> bool:
    """Whether the backend offers a read-only handle (``open_backend(..., read_only=True)``)."""
    if backend == "sqlite":
        return True
    cls = _postgres_class(postgres_module(), "PostgresStore")
    return cls is not None and "read_only" in inspect.signature(cls).parameters


def open_backend(backend: str, target: str, *, read_only: bool = False) -> Any:
    """A new handle on the store at ``target`` (a file path for SQLite, a URL for PostgreSQL).

    Every call gives a handle of its own (its own connections) on the same data.
    """
    if backend == "sqlite":
        from eduxchange.store.backends import open_catalog_store, open_store_reader

        return open_store_reader(target) if read_only else open_catalog_store(target)
    if backend == "postgresql":
        cls = _postgres_class(postgres_module(), "PostgresStore")
        if cls is None:
            raise ImportError("eduxchange.store.postgres has no class PostgresStore")
        return cls(target, read_only=True) if read_only else cls(target)
    raise ValueError(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")
