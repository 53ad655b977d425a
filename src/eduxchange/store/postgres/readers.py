"""What publishing reads from the PostgreSQL store: the OAI-PMH backend, the change feed, and
the web pages' views (the SQLite store's ``oai``, ``readers`` and ``views``, as methods).

Every list is a keyset page on ``seq``: as values become visible in ``seq`` order (the package
docstring), a resumption token or feed page that continues after a seq never misses a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...publish.changes import Change
from ..base import CatalogueTotals, MemberDescription, OAIItem, Resource, parse_json

__all__ = ["PostgresReaders"]

_REPOSITORY_IDENTIFIER = "oai_repository_identifier"


class PostgresReaders:
    """Read-only queries of :class:`~.store.PostgresStore` (a mixin: it supplies ``_rows``,
    ``_one``, ``kept_meta`` and ``token_key``)."""

    def _rows(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def _one(self, query: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        raise NotImplementedError

    def kept_meta(self, key: str, default: str) -> str:
        raise NotImplementedError

    def token_key(self) -> bytes:
        raise NotImplementedError

    # -- the OAI-PMH provider's backend (eduxchange.publish.provider.OAIBackend) -------------

    # The setSpecs in byte order, as SQLite's group_concat over its (resource_id, set_spec)
    # key gives them: the two backends write the same headers.
    _COLUMNS = ("r.id, r.deleted, r.created_at, r.updated_at, r.seq, "
                "(SELECT string_agg(x.set_spec, ' ' ORDER BY x.set_spec) FROM resource_sets x "
                "WHERE x.resource_id = r.id)")

    @staticmethod
    def _filters(from_: str | None, until: str | None, set_: str | None
                 ) -> tuple[str, str, list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if set_ is not None:
            source, seq_column = "resource_sets s JOIN resources r ON r.id = s.resource_id", "s.seq"
            where.append("s.set_spec = %s")
            params.append(set_)
        else:
            source, seq_column = "resources r", "r.seq"
        if from_ is not None:
            where.append("r.updated_at >= %s")
            params.append(from_)
        if until is not None:
            where.append("r.updated_at <= %s")
            params.append(until)
        return source, seq_column, where, params

    def oai_list(self, *, from_: str | None, until: str | None, set_: str | None,
                 after_seq: int, limit: int, with_records: bool, prefix: str | None = None,
                 writer_version: str | None = None) -> list[OAIItem]:
        """Up to ``limit`` items with ``seq > after_seq`` in ``seq`` order (with metadata
        already written in ``prefix`` by the writer of ``writer_version`` when current)."""
        source, seq_column, where, params = self._filters(from_, until, set_)
        columns = self._COLUMNS
        join_params: list[Any] = []
        if with_records:
            if prefix is not None and writer_version is not None:
                # The record's JSON only where no current metadata is written (it is not read
                # then: a page's worth of JSON is about as much as its metadata).
                columns += ", CASE WHEN d.xml IS NULL THEN r.record END, d.xml"
                source += (" LEFT JOIN disseminations d ON d.resource_id = r.id "
                           "AND d.prefix = %s AND d.seq = r.seq AND d.writer_version = %s")
                join_params += [prefix, writer_version]
            else:
                columns += ", r.record"
        rows = self._rows(
            f"SELECT {columns} FROM {source} WHERE "
            f"{' AND '.join([f'{seq_column} > %s', *where])} ORDER BY {seq_column} LIMIT %s",
            (*join_params, after_seq, *params, limit))
        return [self._item(row, with_records) for row in rows]

    def oai_count(self, *, from_: str | None, until: str | None, set_: str | None) -> int:
        """How many items the list has (``completeListSize``)."""
        source, _, where, params = self._filters(from_, until, set_)
        query = f"SELECT COUNT(*) FROM {source}"
        if where:
            query += f" WHERE {' AND '.join(where)}"
        row = self._one(query, params)
        return int(row[0]) if row else 0

    def oai_get(self, resource_id: str) -> OAIItem | None:
        """One resource (live or deleted) with its record, or ``None``."""
        row = self._one(f"SELECT {self._COLUMNS}, r.record FROM resources r WHERE r.id = %s",
                        (resource_id,))
        return None if row is None else self._item(row, True)

    def oai_sets(self) -> list[str]:
        """Every setSpec some resource is in, top levels included, sorted."""
        return [r[0] for r in self._rows(
            "SELECT DISTINCT set_spec FROM resource_sets ORDER BY set_spec")]

    def oai_earliest(self) -> str | None:
        """The earliest datestamp in the catalogue (``None`` when it is empty)."""
        row = self._one("SELECT MIN(updated_at) FROM resources")
        return None if row is None or row[0] is None else str(row[0])

    def oai_token_key(self) -> bytes:
        """The resumption-token key kept in the catalogue (the same on every server)."""
        return self.token_key()

    def oai_repository_identifier(self, default: str) -> str:
        """The repositoryIdentifier kept in ``meta``, or ``default``, kept from now on."""
        return self.kept_meta(_REPOSITORY_IDENTIFIER, default)

    def oai_id_prefixes(self) -> list[str]:
        """The distinct ``{base_uri}resources/`` prefixes of the resources' IRIs (36: a uuid),
        the one of the earliest change first."""
        return [str(r[0]) for r in self._rows(
            "SELECT substr(id, 1, length(id) - 36) AS prefix FROM resources "
            "GROUP BY prefix ORDER BY MIN(seq)")]

    @staticmethod
    def _item(row: tuple[Any, ...], with_record: bool) -> OAIItem:
        sets = tuple(s for s in (row[5] or "").split() if ":" in s)
        written = bytes(row[7]) if len(row) > 7 and row[7] is not None else None
        # Without its record (the pre-rendered metadata is served instead), nothing reads it.
        record: Any = parse_json(row[6]) if with_record and written is None else {}
        return (Resource(id=row[0], record=record, deleted=bool(row[1]), created_at=row[2],
                         updated_at=row[3], seq=int(row[4])), sets, written)

    # -- the change feed ---------------------------------------------------------------------

    def change_rows(self, first_seq: int, last_seq: int) -> list[Change]:
        """The catalogue changes with ``first_seq <= seq <= last_seq``, oldest first."""
        return [Change(seq=int(r[0]), resource_id=r[1], kind=r[2], at=r[3])
                for r in self._rows("SELECT seq, resource_id, kind, at FROM changes "
                                    "WHERE seq BETWEEN %s AND %s ORDER BY seq",
                                    (first_seq, last_seq))]

    def change_stats(self, before_seq: int | None = None) -> tuple[int, int, str | None]:
        """``(count, max seq, latest time)`` of the changes (those with ``seq < before_seq``)."""
        query = "SELECT COUNT(*), COALESCE(MAX(seq), 0), MAX(at) FROM changes"
        params: tuple[int, ...] = ()
        if before_seq is not None:
            query += " WHERE seq < %s"
            params = (before_seq,)
        row = self._one(query, params)
        assert row is not None
        return int(row[0]), int(row[1]), row[2]

    def latest_change(self) -> tuple[int, str | None]:
        """``(max seq, time)`` of the newest change, by the primary key."""
        row = self._one("SELECT seq, at FROM changes ORDER BY seq DESC LIMIT 1")
        return (0, None) if row is None else (int(row[0]), row[1])

    def resource(self, resource_id: str) -> Resource | None:
        """One catalogue record (or its tombstone) by IRI."""
        row = self._one("SELECT record, deleted, created_at, updated_at, seq FROM resources "
                        "WHERE id = %s", (resource_id,))
        if row is None:
            return None
        return Resource(id=resource_id, record=parse_json(row[0]), deleted=bool(row[1]),
                        created_at=row[2], updated_at=row[3], seq=int(row[4]))

    def alias_target(self, resource_id: str) -> str | None:
        """The IRI of the resource a retired IRI now names, or ``None``."""
        row = self._one("SELECT resource_id FROM aliases WHERE retired_id = %s", (resource_id,))
        return None if row is None else str(row[0])

    # -- the web pages' views (eduxchange.store.views) ----------------------------------------

    def catalogue_totals(self) -> CatalogueTotals:
        """Live resources, their distinct languages and licences. Records are JSON text, read
        as ``json`` (``jsonb`` would refuse a ``\\u0000`` a record may hold)."""
        row = self._one(
            "SELECT COUNT(*), "
            "(SELECT COUNT(DISTINCT lower(l)) FROM resources r2, "
            " json_array_elements_text(CASE WHEN json_typeof(r2.record::json -> 'inLanguage') "
            " = 'array' THEN r2.record::json -> 'inLanguage' ELSE '[]'::json END) l "
            " WHERE NOT r2.deleted), "
            "COUNT(DISTINCT record::json -> 'license' ->> 'id') "
            "FROM resources WHERE NOT deleted")
        assert row is not None
        return CatalogueTotals(resources=int(row[0]), languages=int(row[1]),
                               licences=int(row[2]))

    def member_descriptions(self, resource_id: str) -> list[MemberDescription]:
        """The member descriptions a catalogue record was merged from, by rank, member and
        identifier (at most 100)."""
        return [MemberDescription(member_id=r[0], identifier=r[1], format=r[2],
                                  description=parse_json(r[3]), updated_at=r[4])
                for r in self._rows(
                    "SELECT member_id, identifier, format, description, updated_at "
                    "FROM descriptions WHERE resource_id = %s "
                    "ORDER BY rank, member_id, identifier LIMIT 100", (resource_id,))]

    def member_resource_count(self, member_id: str) -> int:
        """How many live catalogue records a member's descriptions contribute to."""
        row = self._one("SELECT COUNT(DISTINCT d.resource_id) FROM descriptions d "
                        "JOIN resources r ON r.id = d.resource_id "
                        "WHERE d.member_id = %s AND NOT r.deleted", (member_id,))
        return int(row[0]) if row else 0
