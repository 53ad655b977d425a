"""The alliance configuration file (TOML): load, validate, explain what is wrong.

Every message of a :class:`~eduxchange.core.errors.ConfigError` names the file, the
member (when it is about one) and the key, e.g.::

    alliance.toml: members[1] (id 'ouc'): key 'endpoint': must be an http(s) URL, got 'ftp://x'
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .errors import ConfigError
from ..catalog.vocab import VocabularyError, check_mapping_tables

__all__ = [
    "CatalogConfig",
    "FeedConfig",
    "HarvestSettings",
    "MemberConfig",
    "Config",
    "load_config",
    "parse_config",
    "DEFAULT_CONFIG",
    "STORE_PASSWORD_VARIABLE",
    "is_store_url",
    "masked_store_url",
    "store_url_problem",
    "with_store",
]

DEFAULT_CONFIG = "alliance.toml"


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogConfig:
    """``[catalog]``: where the store lives and how catalogue IRIs are minted."""

    store: Path  # the SQLite file (the embedded default; unused when ``store_url`` is set)
    base_uri: str
    extra_mappings: tuple[Path, ...] = ()  # member-local vocabulary mapping tables (TSV)
    #: A PostgreSQL store URL (``postgresql://user@host/dbname``), checked by
    #: :func:`store_url_problem`; ``None`` for the SQLite file ``store``.
    store_url: str | None = None

    @property
    def location(self) -> str:
        """Where the store is, as messages show it: the URL, or the SQLite file's path."""
        return self.store_url if self.store_url is not None else str(self.store)


@dataclass(frozen=True, slots=True, kw_only=True)
class HarvestSettings:
    """``[harvest]`` defaults; each member may override any of them.

    ``requests_per_second`` is the politeness limit towards one member;
    ``reconcile_days`` is how often a member whose ``deletedRecord`` is ``no`` or
    ``transient`` gets its identifiers listed in full to retire what it no longer has.
    ``max_pages``, ``list_size_margin`` and ``max_empty_pages`` stop a list that does not
    end (see :class:`eduxchange.harvesting.client.ListGuard`).
    ``timeout`` bounds one whole response (connecting to its last byte) and
    ``run_timeout`` one member's whole run, both in seconds; ``allow_redirects_to``
    lists the URLs (origins or URL prefixes) a member may redirect to besides its
    own scheme and host.
    """

    concurrency: int = 4
    timeout: float = 180.0
    run_timeout: float = 21600.0
    allow_redirects_to: tuple[str, ...] = ()
    max_retries: int = 5
    backoff: float = 1.0
    max_backoff: float = 60.0
    max_retry_after: float = 600.0
    requests_per_second: float = 5.0
    max_response_mb: float = 64.0
    reconcile_days: float = 7.0
    max_empty_pages: int = 5
    max_pages: int = 50_000  # pages of one list before it is declared endless; 0: no limit
    list_size_margin: float = 0.1  # how far past its completeListSize a list may run
    user_agent: str = "eduxchange/0.1 (OAI-PMH harvester; +https://github.com/eduxchange)"


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberConfig:
    """One ``[[members]]`` entry: an alliance member's OAI-PMH endpoint."""

    id: str
    name: str
    endpoint: str
    metadata_prefix: str | None = None
    sets: tuple[str, ...] = ()
    country: str | None = None
    enabled: bool = True
    publish_contacts: bool = False  # republish persons' e-mail, phone and address
    settings: HarvestSettings = field(default_factory=HarvestSettings)


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedConfig:
    """``[feed]``: how the catalogue is republished (OAI-PMH provider, change feed).

    ``page_size`` is the number of records (or headers) per OAI-PMH list response.
    ``admin_email`` are the addresses OAI-PMH Identify names as the repository's
    administrators (at least one is needed to serve, OAI-PMH 2.0 §4.2); ``repository_name``
    is Identify's ``repositoryName`` (default: built from the catalogue's host).
    """

    page_size: int = 100
    admin_email: tuple[str, ...] = ()
    repository_name: str | None = None
    #: OAI identifiers' repositoryIdentifier (a domain name); default: kept with the store on
    #: first use, made from base_uri's host (docs/republishing.md, "OAI identifiers").
    repository_identifier: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Config:
    """The whole configuration, with paths resolved against the config file."""

    path: Path | None
    catalog: CatalogConfig
    harvest: HarvestSettings
    members: tuple[MemberConfig, ...]
    feed: FeedConfig = field(default_factory=FeedConfig)

    def member(self, member_id: str) -> MemberConfig:
        """The member with this id; :class:`ConfigError` listing the known ids otherwise."""
        for m in self.members:
            if m.id == member_id:
                return m
        known = ", ".join(m.id for m in self.members) or "(none)"
        raise ConfigError(f"{self._where()}no member with id {member_id!r}; known: {known}")

    def _where(self) -> str:
        return f"{self.path}: " if self.path else ""


_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
_SETTING_TYPES: dict[str, type] = {
    "concurrency": int,
    "timeout": float,
    "run_timeout": float,
    "allow_redirects_to": tuple,
    "max_retries": int,
    "backoff": float,
    "max_backoff": float,
    "max_retry_after": float,
    "requests_per_second": float,
    "max_response_mb": float,
    "reconcile_days": float,
    "max_empty_pages": int,
    "max_pages": int,
    "list_size_margin": float,
    "user_agent": str,
}
_MEMBER_KEYS = {"id", "name", "endpoint", "metadata_prefix", "sets", "country", "enabled",
                "publish_contacts"}
_PER_MEMBER_SETTINGS = set(_SETTING_TYPES) - {"concurrency"}


class _Ctx:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, key: str, message: str) -> ConfigError:
        place = f"{where}: " if where else ""
        return ConfigError(f"{self.source}: {place}key {key!r}: {message}")


def load_config(path: str | Path = DEFAULT_CONFIG) -> Config:
    """Read and validate a config file. Raises :class:`ConfigError` with a precise message."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found (give one with --config, or create "
            f"{DEFAULT_CONFIG}; see the README for an example)"
        ) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path}: not valid TOML: {err}") from None
    return parse_config(data, path=path)


#: The store URL schemes of the PostgreSQL backend (libpq accepts both).
STORE_URL_SCHEMES = ("postgresql", "postgres")
#: Where the PostgreSQL store's password comes from (libpq's PGPASSWORD and ~/.pgpass work too).
STORE_PASSWORD_VARIABLE = "EDUXCHANGE_STORE_PASSWORD"


def is_store_url(value: str) -> bool:
    """Whether ``[catalog] store`` (or ``--store``) names a PostgreSQL store, not a file."""
    scheme, sep, _ = value.partition("://")
    return bool(sep) and scheme.lower() in STORE_URL_SCHEMES


def masked_store_url(url: str) -> str:
    """``url`` with any password in it replaced by ``***`` (for messages)."""
    parts = urlsplit(url)
    try:
        password = parts.password
    except ValueError:
        password = None
    netloc = parts.netloc
    if password is not None:
        user, _, host = netloc.rpartition("@")
        netloc = f"{user.split(':', 1)[0]}:***@{host}"
    query = "&".join("password=***" if p.startswith("password=") else p
                     for p in parts.query.split("&")) if parts.query else ""
    return parts._replace(netloc=netloc, query=query).geturl()


def store_url_problem(url: str) -> str | None:
    """What is wrong with a PostgreSQL store URL, or ``None``.

    A password in it is refused: config files are shared and kept in version control, and a
    command line is visible to every user of the machine. It belongs in the environment.
    """
    parts = urlsplit(url)
    try:
        has_password = parts.password is not None
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError as err:
        return f"is not a valid PostgreSQL URL ({err}): postgresql://user@host[:port]/dbname"
    query = parse_qsl(parts.query, keep_blank_values=True)
    if has_password or any(k == "password" for k, _ in query):
        return (f"holds a password: remove it from the URL (postgresql://user@host/dbname) and "
                f"set it in the environment variable {STORE_PASSWORD_VARIABLE} (or PGPASSWORD, "
                f"or put it in ~/.pgpass)")
    if not parts.hostname and "host=" not in parts.query:
        return "names no host: postgresql://user@host[:port]/dbname"
    if not parts.path.strip("/"):
        return "names no database: postgresql://user@host[:port]/dbname"
    return None


def with_store(config: Config, store: str) -> Config:
    """``config`` with its store replaced by ``store`` (``--store``: a file path, or a URL)."""
    if is_store_url(store):
        problem = store_url_problem(store)
        if problem:
            raise ConfigError(f"--store {masked_store_url(store)}: {problem}")
        return replace(config, catalog=replace(config.catalog, store_url=store))
    return replace(config, catalog=replace(config.catalog, store=Path(store), store_url=None))


def parse_config(data: dict[str, Any], *, path: Path | None = None) -> Config:
    """Validate an already-parsed config mapping (``path`` resolves the store path)."""
    ctx = _Ctx(str(path) if path else "<config>")
    unknown = set(data) - {"catalog", "harvest", "members", "feed"}
    if unknown:
        key = sorted(unknown)[0]
        raise ctx.fail("", key, "unknown section (known: catalog, harvest, members, feed)")
    base_dir = path.parent if path else Path.cwd()

    catalog = data.get("catalog", {})
    if not isinstance(catalog, dict):
        raise ctx.fail("", "catalog", "must be a table ([catalog])")
    _no_unknown(ctx, "[catalog]", catalog, {"store", "base_uri", "extra_mappings"})
    store = catalog.get("store", "catalog.sqlite")
    if not isinstance(store, str) or not store:
        raise ctx.fail("[catalog]", "store", "must be a file path or a postgresql:// URL")
    store_url: str | None = None
    if is_store_url(store):
        problem = store_url_problem(store)
        if problem:
            raise ctx.fail("[catalog]", "store", problem)
        store_url, store = store, "catalog.sqlite"
    base_uri = catalog.get("base_uri", "https://catalog.example.org/")
    if not isinstance(base_uri, str) or not _is_http_url(base_uri):
        raise ctx.fail("[catalog]", "base_uri", f"must be an http(s) URL, got {base_uri!r}")
    if not base_uri.endswith("/"):
        base_uri += "/"
    store_path = Path(store) if Path(store).is_absolute() else base_dir / store
    extra = catalog.get("extra_mappings", [])
    if not isinstance(extra, list) or not all(isinstance(x, str) and x for x in extra):
        raise ctx.fail("[catalog]", "extra_mappings",
                       f"must be a list of mapping file paths (TSV), got {extra!r}")
    extra_paths = tuple(Path(x) if Path(x).is_absolute() else base_dir / x for x in extra)
    for extra_path in extra_paths:
        if not extra_path.is_file():
            raise ctx.fail("[catalog]", "extra_mappings", f"no such file: {extra_path}")
    if extra_paths:
        # Found now, not as a traceback halfway through a harvest: the tables are read
        # the way normalization will read them (file and line in the message).
        try:
            check_mapping_tables(extra_paths)
        except VocabularyError as err:
            raise ctx.fail("[catalog]", "extra_mappings",
                           f"{err} (the table format is in docs/normalization.md)") from None

    harvest_table = data.get("harvest", {})
    if not isinstance(harvest_table, dict):
        raise ctx.fail("", "harvest", "must be a table ([harvest])")
    settings = _settings(ctx, "[harvest]", harvest_table, HarvestSettings(), set(_SETTING_TYPES))

    raw_members = data.get("members", [])
    if not isinstance(raw_members, list):
        raise ctx.fail("", "members", "must be an array of tables ([[members]])")
    members: list[MemberConfig] = []
    seen: set[str] = set()
    for index, raw in enumerate(raw_members):
        member = _member(ctx, index, raw, settings)
        if member.id in seen:
            raise ctx.fail(f"members[{index}] (id {member.id!r})", "id", "duplicate member id")
        seen.add(member.id)
        members.append(member)
    return Config(
        path=path,
        catalog=CatalogConfig(store=store_path, base_uri=base_uri, extra_mappings=extra_paths,
                              store_url=store_url),
        harvest=settings,
        members=tuple(members),
        feed=_feed(ctx, data.get("feed", {})),
    )


_MAX_PAGE_SIZE = 10_000


def _feed(ctx: _Ctx, table: Any) -> FeedConfig:
    if not isinstance(table, dict):
        raise ctx.fail("", "feed", "must be a table ([feed])")
    _no_unknown(ctx, "[feed]", table, {"page_size", "admin_email", "repository_name",
                                       "repository_identifier"})
    page_size = table.get("page_size", 100)
    if isinstance(page_size, bool) or not isinstance(page_size, int):
        raise ctx.fail("[feed]", "page_size", f"must be a whole number, got {page_size!r}")
    if not 1 <= page_size <= _MAX_PAGE_SIZE:
        raise ctx.fail("[feed]", "page_size",
                       f"must be between 1 and {_MAX_PAGE_SIZE}, got {page_size!r}")
    emails = table.get("admin_email", [])
    if isinstance(emails, str):
        emails = [emails]
    if not isinstance(emails, list) or not all(isinstance(e, str) and _EMAIL.match(e)
                                               for e in emails):
        raise ctx.fail("[feed]", "admin_email",
                       f"must be an e-mail address (or a list of them) of the people who run "
                       f"this catalogue, like \"oai-admin@example.org\", got {emails!r}")
    name = table.get("repository_name")
    if name is not None and (not isinstance(name, str) or not name.strip()
                             or not _PRINTABLE.match(name)):
        raise ctx.fail("[feed]", "repository_name",
                       f"must be a non-empty one-line name, got {name!r}")
    repository_identifier = table.get("repository_identifier")
    if repository_identifier is not None and (
            not isinstance(repository_identifier, str)
            or not _REPOSITORY_IDENTIFIER.match(repository_identifier)):
        raise ctx.fail("[feed]", "repository_identifier",
                       f"must be a domain name the catalogue's OAI identifiers are made with "
                       f"(OAI identifier guidelines: letters, digits and '-' in two or more "
                       f"dot-separated labels, each starting with a letter), like "
                       f"\"oer.your-alliance.org\", got {repository_identifier!r}")
    return FeedConfig(page_size=page_size, admin_email=tuple(dict.fromkeys(emails)),
                      repository_name=" ".join(name.split()) if name else None,
                      repository_identifier=repository_identifier)


# An addr-spec without quoted local parts or address literals (RFC 5322 3.4.1; OAI-PMH's XML
# Schema wants a local part, an '@' and a dotted domain), at a domain name, not an IP address:
# its last label starts with a letter (RFC 1123 2.1).
_EMAIL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
# oai-identifier.xsd, repositoryIdentifierType (the provider checks hosts with the same pattern).
_REPOSITORY_IDENTIFIER = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$(?!\n)")
_PRINTABLE = re.compile(r"^[^\x00-\x1f\x7f\ufffe\uffff]{1,500}$")


def _no_unknown(ctx: _Ctx, where: str, table: dict[str, Any], known: set[str]) -> None:
    for key in table:
        if key not in known:
            raise ctx.fail(where, key, f"unknown key (known: {', '.join(sorted(known))})")


def _settings(
    ctx: _Ctx, where: str, table: dict[str, Any], base: HarvestSettings, allowed: set[str]
) -> HarvestSettings:
    changes: dict[str, Any] = {}
    for key, value in table.items():
        if key not in allowed:
            continue
        kind = _SETTING_TYPES[key]
        if kind is tuple:
            changes[key] = _redirect_targets(ctx, where, key, value)
            continue
        if kind is str:
            if not isinstance(value, str):
                raise ctx.fail(where, key, f"must be a string, got {value!r}")
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ctx.fail(where, key, f"must be a number, got {value!r}")
        elif kind is int and not isinstance(value, int):
            raise ctx.fail(where, key, f"must be a whole number, got {value!r}")
        elif value < 0 or (key in ("concurrency", "requests_per_second", "timeout", "run_timeout")
                           and value <= 0):
            raise ctx.fail(where, key, f"must be greater than 0, got {value!r}")
        changes[key] = kind(value)
    if where == "[harvest]":
        _no_unknown(ctx, where, table, allowed)
    return replace(base, **changes)


def _redirect_targets(ctx: _Ctx, where: str, key: str, value: Any) -> tuple[str, ...]:
    """``allow_redirects_to``: http(s) URLs, each an origin or a URL prefix."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ctx.fail(where, key, f"must be a list of http(s) URLs, got {value!r}")
    for url in value:
        parts = urlsplit(url)
        if not _is_http_url(url) or parts.query or parts.fragment:
            raise ctx.fail(where, key, "each entry must be an http(s) URL without query, like "
                                       f"\"https://oai.example.org\", got {url!r}")
    return tuple(dict.fromkeys(value))


def _member(ctx: _Ctx, index: int, raw: Any, defaults: HarvestSettings) -> MemberConfig:
    where = f"members[{index}]"
    if not isinstance(raw, dict):
        raise ctx.fail("", f"members[{index}]", "must be a table ([[members]])")
    member_id = raw.get("id")
    if member_id is not None:
        where = f"members[{index}] (id {member_id!r})"
    _no_unknown(ctx, where, raw, _MEMBER_KEYS | _PER_MEMBER_SETTINGS)
    if not isinstance(member_id, str) or not _ID.match(member_id):
        raise ctx.fail(
            where, "id",
            "required: a short stable id of letters, digits, '.', '_' or '-' (e.g. \"ouc\")",
        )
    endpoint = raw.get("endpoint")
    if not isinstance(endpoint, str) or not _is_http_url(endpoint):
        raise ctx.fail(where, "endpoint", f"required: an http(s) URL, got {endpoint!r}")
    name = raw.get("name", member_id)
    if not isinstance(name, str):
        raise ctx.fail(where, "name", f"must be a string, got {name!r}")
    prefix = raw.get("metadata_prefix")
    if prefix is not None and (not isinstance(prefix, str) or not prefix.strip()):
        raise ctx.fail(where, "metadata_prefix", f"must be a non-empty string, got {prefix!r}")
    sets = raw.get("sets", [])
    if not isinstance(sets, list) or not all(isinstance(s, str) and s for s in sets):
        raise ctx.fail(where, "sets", f"must be a list of set specs (strings), got {sets!r}")
    country = raw.get("country")
    if country is not None and (not isinstance(country, str) or not re.match(r"^[A-Za-z]{2}$", country)):
        raise ctx.fail(where, "country", f"must be an ISO 3166-1 alpha-2 code like \"CN\", got {country!r}")
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise ctx.fail(where, "enabled", f"must be true or false, got {enabled!r}")
    publish_contacts = raw.get("publish_contacts", False)
    if not isinstance(publish_contacts, bool):
        raise ctx.fail(where, "publish_contacts", f"must be true or false, got {publish_contacts!r}")
    settings = _settings(ctx, where, raw, defaults, _PER_MEMBER_SETTINGS)
    return MemberConfig(
        id=member_id,
        name=name,
        endpoint=endpoint,
        metadata_prefix=prefix.strip() if prefix else None,
        sets=tuple(dict.fromkeys(sets)),
        country=country.upper() if country else None,
        enabled=enabled,
        publish_contacts=publish_contacts,
        settings=settings,
    )


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)
