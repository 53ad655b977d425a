"""The OAI-PMH 2.0 data provider over the catalogue: ``Provider(config, store).handle(params)``.

Three layers, as pyoai's server (STYLE.md): XML building (``_Response``), argument checking and
paging (:class:`Provider`), and a backend that returns resources and setSpecs and never touches XML
(:class:`~eduxchange.store.base.OAIBackend`, which every catalogue store implements).

Repository policy (Identify): granularity ``YYYY-MM-DDThh:mm:ssZ`` (day-granular ``from``/``until``
are accepted too, §3.3.1), ``deletedRecord`` ``persistent`` (a record that leaves the catalogue is
served as a deleted header for good, §2.5.1). A record's datestamp is when the *catalogue's* record
last changed (``resources.updated_at``), not a member's datestamp, so incremental harvests of the
catalogue never miss a record a member sent late with an old datestamp.

Identifiers: ``oai:{repositoryIdentifier}:{uuid}`` for the record ``{base_uri}resources/{uuid}``
(OAI identifier guidelines; Identify describes the scheme). The repositoryIdentifier is a domain
name, fixed for the store whatever host serves it: ``[feed] repository_identifier``, else the one
kept in the store's ``meta`` on first use, made then from the host of the ``base_uri`` the
records were minted under, or the current one, when that is a domain name, else
:data:`DEFAULT_REPOSITORY_IDENTIFIER` (an IP address is no valid repositoryIdentifier). GetRecord
and ListMetadataFormats also accept the full catalogue IRI, under this or an earlier
``base_uri``, and the identifiers older versions handed out (``oai:{host of base_uri}:{uuid}``);
headers always carry the ``oai:`` form. A record whose IRI was retired by a merge is a deleted header (§2.5.1), not the
surviving record: an OAI-PMH item has one identifier, and the survivor (which lists the retired
IRI in ``sameAs``) changed in the same transaction, so incremental harvesters get both.

Formats: ``oai_dc``, ``lom`` (IEEE LOM, lomLoose.xsd) and ``rdf`` (the common record as RDF/XML,
namespace ``http://www.w3.org/1999/02/22-rdf-syntax-ns#``), see :mod:`eduxchange.publish.writers`. RDF/XML
has no official XML Schema, so ListMetadataFormats names the project's own lax one, which the
server publishes (:data:`SERVED_SCHEMAS`), and strict validators accept the format.

Identify names the repository as ``[feed] repository_name`` and its administrators as
``[feed] admin_email`` (§4.2 requires at least one: a provider without one is a
:class:`~eduxchange.core.errors.ConfigError`, never an invented address).

Sets (§2.7.2): ``member:<member id>`` (a merged record is in the set of every member it came from),
``lang:<BCP 47 tag>`` (``inLanguage``), ``type:<local name>`` (LRMI learningResourceType concept
IRI, e.g. ``type:lessonPlan``), and their top levels ``member``, ``lang``, ``type``.

Resumption tokens (§3.5) are stateless: the request (prefix, from, until, set), the last ``seq``
delivered, the cursor and the list size, as base64url JSON with an HMAC-SHA256 tag under a secret
key kept in the store (made on first use, :meth:`OAIBackend.oai_token_key`), so nobody outside can
make one; and every field of a token is type- and range-checked all the same before it reaches a
query. Pages are keyset queries on the store's change counter ``seq``: a record changed between
two pages moves to the end of the list instead of being skipped, and a deep page costs what the
first one does. Tokens do not expire.

Arguments holding characters XML cannot carry (C0 controls other than tab, newline and carriage
return; U+FFFE, U+FFFF) get badArgument: they could never name anything served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from ..core.config import Config
from ..core.errors import ConfigError
from ..store.base import OAIBackend, OAIItem
from ..catalog.vocab import SCHEMES, default_vocabularies
from .writers import WRITERS

__all__ = ["Provider", "OAIBackend", "OAI_NS", "ERROR_CODES", "SERVED_SCHEMAS",
           "DEFAULT_REPOSITORY_IDENTIFIER", "repository_identifier_for"]

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_ID_NS = "http://www.openarchives.org/OAI/2.0/oai-identifier"
_O = f"{{{OAI_NS}}}"
_SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"

#: Every error code of OAI-PMH 2.0 §3.6.
ERROR_CODES = ("badArgument", "badResumptionToken", "badVerb", "cannotDisseminateFormat",
               "idDoesNotExist", "noRecordsMatch", "noMetadataFormats", "noSetHierarchy")

#: Per verb: (required arguments, optional arguments); resumptionToken is exclusive (§3.5).
_VERBS: Mapping[str, tuple[frozenset[str], frozenset[str]]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset({"resumptionToken"})),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}),
                        frozenset({"from", "until", "set", "resumptionToken"})),
    "ListRecords": (frozenset({"metadataPrefix"}),
                    frozenset({"from", "until", "set", "resumptionToken"})),
}
_SET_SPEC = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*$")
_PREFIX = re.compile(r"^[A-Za-z0-9\-_.!~*'()]+$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SECONDS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_DOMAIN = re.compile(r"^[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+$")
#: The repositoryIdentifier when ``base_uri``'s host is no domain name (an IP address, ``localhost``).
DEFAULT_REPOSITORY_IDENTIFIER = "eduxchange.local"
_LOCAL_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# What XML 1.0 cannot carry (§2.2 Char), as str after percent-decoding; lone surrogates too.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_ABSOLUTE_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{0,30}:[^\s\"<>\\^`{|}\[\]\x00-\x1f]{1,2000}$")
_MAX_TOKEN = 2048  # characters; the tokens we write are about 200
_MAX_INT = 2**63 - 1  # SQLite's INTEGER

#: Formats whose XML Schema this server publishes itself (RDF/XML has no official one):
#: metadataPrefix -> path under the server's root. The file is ``writers.SCHEMA_FILES[prefix]``.
SERVED_SCHEMAS: Mapping[str, str] = MappingProxyType({"rdf": "schemas/rdf-lax.xsd"})

_COUNT_TTL = 5.0  # seconds a completeListSize count is reused for new lists


class _OAIError(Exception):
    """An OAI-PMH error response (§3.6); ``echo`` says whether the request attributes are echoed."""

    def __init__(self, code: str, message: str, *, echo: bool = True) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.echo = echo


@dataclass(frozen=True, slots=True)
class _ListState:
    prefix: str
    from_: str | None
    until: str | None
    set_: str | None
    after_seq: int
    cursor: int
    total: int


def repository_identifier_for(base_uri: str) -> str:
    """The repositoryIdentifier a catalogue at ``base_uri`` starts with: its host when that is a
    domain name (the oai-identifier scheme's syntax), else :data:`DEFAULT_REPOSITORY_IDENTIFIER`."""
    host = urlsplit(base_uri).hostname or ""
    return host if _DOMAIN.match(host) else DEFAULT_REPOSITORY_IDENTIFIER


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_datestamp(value: str, *, until: bool) -> tuple[str, str]:
    """``(UTC datestamp in seconds, granularity)``; badArgument for anything else (§3.3.1)."""
    if _DAY.match(value):
        try:
            datetime.strptime(value, "%Y-%m-%d")
        except ValueError:
            raise _OAIError("badArgument", f"not a valid date: {value}", echo=False) from None
        return value + ("T23:59:59Z" if until else "T00:00:00Z"), "day"
    if _SECONDS.match(value):
        try:
            datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
        except ValueError:
            raise _OAIError("badArgument", f"not a valid datestamp: {value}", echo=False) from None
        return value, "seconds"
    raise _OAIError("badArgument", "from/until must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ",
                    echo=False)


class Provider:
    """An OAI-PMH 2.0 repository over the catalogue; :meth:`handle` answers one request."""

    def __init__(self, config: Config, store: OAIBackend, *,
                 repository_name: str | None = None,
                 admin_email: str | Sequence[str] | None = None) -> None:
        self.config = config
        self.backend = store
        self.base_uri = config.catalog.base_uri
        self.host = urlsplit(self.base_uri).hostname or "localhost"
        # The repositoryIdentifier (OAI identifier guidelines 2.1: a domain name): configured, or
        # the one this store's identifiers were first published with, or made now from base_uri's
        # host (a domain name) or DEFAULT_REPOSITORY_IDENTIFIER (an IP address or 'localhost').
        self._prefixes: tuple[float, tuple[str, ...]] = (float("-inf"), ())
        # A store made before identifiers were kept: its records' first base_uri names it.
        minted = [urlsplit(p).hostname or "" for p in self._id_prefixes()]
        first = next((h for h in minted if _DOMAIN.match(h)), None)
        stored = self.backend.oai_repository_identifier(
            config.feed.repository_identifier or first or repository_identifier_for(self.base_uri))
        self.repository_identifier = config.feed.repository_identifier or stored
        # Identifiers GetRecord accepts besides ours: the store's first, and the old form (the
        # host of base_uri, now or when records were minted) that stores published before
        # identifiers were kept handed out.
        self._accepted_ids = (self.repository_identifier, stored, self.host)
        self.page_size = config.feed.page_size
        self.repository_name = (repository_name or config.feed.repository_name
                                or f"eduxchange catalogue ({self.host})")
        emails = ((admin_email,) if isinstance(admin_email, str)
                  else tuple(admin_email or ()) or config.feed.admin_email)
        if not emails:  # §4.2: Identify must name at least one administrator
            where = f"{config.path}: " if config.path else ""
            raise ConfigError(
                f"{where}[feed]: key 'admin_email': required to serve OAI-PMH (Identify must "
                f"give the address of a person who runs this catalogue, OAI-PMH 2.0 section "
                f"4.2); add e.g. admin_email = \"oai-admin@your-alliance.org\" under [feed]")
        self.admin_emails: tuple[str, ...] = emails
        self._key = self.backend.oai_token_key()
        self._member_names = {m.id: m.name for m in config.members}
        self._counts: dict[tuple[str | None, str | None, str | None], tuple[float, int]] = {}

    def _count(self, from_: str | None, until: str | None, set_: str | None) -> int:
        """completeListSize, counted at most every few seconds per request (§3.5.1: it may be an
        estimate; a page never reports less than it has delivered)."""
        key = (from_, until, set_)
        now = time.monotonic()
        cached = self._counts.get(key)
        if cached is not None and now - cached[0] < _COUNT_TTL:
            return cached[1]
        if len(self._counts) > 1000:
            self._counts.clear()
        total = self.backend.oai_count(from_=from_, until=until, set_=set_)
        self._counts[key] = (now, total)
        return total

    # -- identifiers ---------------------------------------------------------------------

    def oai_identifier(self, resource_id: str) -> str:
        """The OAI identifier of a catalogue record IRI: ``oai:{repositoryIdentifier}:{uuid}``,
        whatever ``base_uri`` the record was minted under."""
        prefix = f"{self.base_uri}resources/"
        local = resource_id[len(prefix):] if resource_id.startswith(prefix) else \
            resource_id.rstrip("/").rsplit("/", 1)[-1]
        return f"oai:{self.repository_identifier}:{local}"

    def resource_id(self, identifier: str) -> str | None:
        """The catalogue IRI an OAI identifier (or the IRI itself) names; ``None`` if neither.

        The IRI under the current ``base_uri``; :meth:`_find` looks under earlier ones too.
        """
        local = self._local(identifier)
        return f"{self.base_uri}resources/{local}" if local else None

    def _local(self, identifier: str) -> str | None:
        """The uuid an identifier names: ``oai:{an accepted repositoryIdentifier}:{uuid}``, or a
        catalogue IRI ``.../resources/{uuid}`` under this or an earlier ``base_uri``."""
        minted = (urlsplit(p).hostname or "" for p in self._id_prefixes())
        for rid in dict.fromkeys((*self._accepted_ids, *minted)):
            head = f"oai:{rid}:"
            if identifier.startswith(head):
                local = identifier[len(head):]
                break
        else:
            prefix, _, local = identifier.rpartition("/")
            if not (f"{prefix}/" == f"{self.base_uri}resources/"
                    or f"{prefix}/" in self._id_prefixes()):
                return None
        return local if _LOCAL_ID.match(local) else None

    def _id_prefixes(self) -> tuple[str, ...]:
        """The store's IRI prefixes, looked up at most every few seconds (a scan of the store)."""
        now = time.monotonic()
        if now - self._prefixes[0] >= _COUNT_TTL:
            self._prefixes = (now, tuple(self.backend.oai_id_prefixes()))
        return self._prefixes[1]

    def _find(self, identifier: str) -> OAIItem | None:
        """The item an identifier names, under the current ``base_uri`` or an earlier one."""
        local = self._local(identifier)
        if local is None:
            return None
        item = self.backend.oai_get(f"{self.base_uri}resources/{local}")
        if item is None:  # a record minted under another base_uri (it was changed since)
            for prefix in self._id_prefixes():
                if prefix != f"{self.base_uri}resources/":
                    item = self.backend.oai_get(prefix + local)
                    if item is not None:
                        break
        return item

    # -- tokens --------------------------------------------------------------------------

    def _token(self, state: _ListState) -> str:
        payload = json.dumps([1, state.prefix, state.from_, state.until, state.set_,
                              state.after_seq, state.cursor, state.total],
                             separators=(",", ":")).encode()
        tag = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
        return f"{_b64(payload)}.{_b64(tag)}"

    def _state(self, token: str) -> _ListState:
        bad = _OAIError("badResumptionToken", "the resumptionToken is invalid", echo=True)
        if len(token) > _MAX_TOKEN:
            raise bad
        try:
            body, _, tag = token.partition(".")
            payload = _unb64(body)
            expected = hmac.new(self._key, payload, hashlib.sha256).digest()[:12]
            if not hmac.compare_digest(expected, _unb64(tag)):
                raise bad
            fields = json.loads(payload)
        except _OAIError:
            raise
        except (ValueError, TypeError, RecursionError):
            raise bad from None
        state = _checked_state(fields)
        if state is None:  # signed by us, yet not one of ours: never let it reach a query
            raise bad
        return state

    # -- the protocol --------------------------------------------------------------------

    def handle(self, params: Mapping[str, Sequence[str]], *, base_url: str) -> bytes:
        """Answer one request (GET query or POST form, as name -> values): UTF-8 XML bytes.

        Bad input gives an OAI-PMH error response (§3.6), never an exception; only a broken
        store raises.
        """
        response = _Response(base_url)
        verb_values = list(params.get("verb", ()))
        try:
            if len(verb_values) != 1 or verb_values[0] not in _VERBS:
                raise _OAIError("badVerb", "missing, repeated or illegal verb" if verb_values
                                else "no verb given", echo=False)
            verb = verb_values[0]
            args = self._check_arguments(verb, params)
            site = base_url.rsplit("/", 1)[0] + "/"  # the server's root (baseURL is {root}oai)
            response.request(verb, args)
            if verb == "ListMetadataFormats":
                self._ListMetadataFormats(response, args, site)
            else:
                getattr(self, f"_{verb}")(response, args)
        except _OAIError as err:
            if err.echo and len(verb_values) == 1 and verb_values[0] in _VERBS:
                response.request(verb_values[0], {
                    k: v[0] for k, v in params.items() if k != "verb" and len(v) == 1})
            else:
                response.request(None, {})
            response.error(err.code, err.message)
        return response.bytes()

    def _check_arguments(self, verb: str, params: Mapping[str, Sequence[str]]) -> dict[str, str]:
        required, optional = _VERBS[verb]
        args: dict[str, str] = {}
        for name, values in params.items():
            if _NOT_XML.search(name) or any(_NOT_XML.search(v) for v in values):
                raise _OAIError("badArgument", "an argument holds a control character or "
                                "another character XML cannot carry", echo=False)
        for name, values in params.items():
            if name == "verb":
                continue
            if name not in required | optional:
                raise _OAIError("badArgument", f"illegal argument {name!r} for {verb}", echo=False)
            if len(values) != 1:
                raise _OAIError("badArgument", f"argument {name!r} repeated", echo=False)
            args[name] = values[0]
        if "resumptionToken" in args:
            if len(args) > 1:
                raise _OAIError("badArgument", "resumptionToken is an exclusive argument",
                                echo=False)
            return args
        missing = sorted(required - set(args))
        if missing:
            raise _OAIError("badArgument", f"missing argument(s): {', '.join(missing)}", echo=False)
        return args

    def _Identify(self, response: _Response, args: dict[str, str]) -> None:
        root = response.verb("Identify")
        for name, text in (("repositoryName", self.repository_name),
                           ("baseURL", response.base_url), ("protocolVersion", "2.0"),
                           *(("adminEmail", email) for email in self.admin_emails),
                           ("earliestDatestamp", self.backend.oai_earliest() or _now()),
                           ("deletedRecord", "persistent"),
                           ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
            etree.SubElement(root, _O + name).text = text
        # Always described: the repositoryIdentifier is a domain name whatever the served host.
        description = etree.SubElement(root, _O + "description")
        ident = etree.SubElement(description, f"{{{OAI_ID_NS}}}oai-identifier",
                                 nsmap={None: OAI_ID_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
        ident.set(f"{{{XSI_NS}}}schemaLocation",
                  f"{OAI_ID_NS} http://www.openarchives.org/OAI/2.0/oai-identifier.xsd")
        rid = self.repository_identifier
        for name, text in (("scheme", "oai"), ("repositoryIdentifier", rid),
                           ("delimiter", ":"),
                           ("sampleIdentifier", f"oai:{rid}:6f1c0e7e-3a51-5c8e-9d57-0f4f3f5f5d21")):
            etree.SubElement(ident, f"{{{OAI_ID_NS}}}{name}").text = text

    def _ListMetadataFormats(self, response: _Response, args: dict[str, str],
                             site: str) -> None:
        if "identifier" in args:
            self._get(args["identifier"])
        if not WRITERS:  # §4.4: no formats for the item
            raise _OAIError("noMetadataFormats", "no metadata formats available")
        root = response.verb("ListMetadataFormats")
        for writer in WRITERS.values():
            element = etree.SubElement(root, _O + "metadataFormat")
            etree.SubElement(element, _O + "metadataPrefix").text = writer.prefix
            served = SERVED_SCHEMAS.get(writer.prefix)
            etree.SubElement(element, _O + "schema").text = (
                site + served if served else writer.schema)
            etree.SubElement(element, _O + "metadataNamespace").text = writer.namespace

    def _ListSets(self, response: _Response, args: dict[str, str]) -> None:
        if "resumptionToken" in args:
            raise _OAIError("badResumptionToken", "ListSets is never paged: no token is valid")
        specs = self.backend.oai_sets()
        if not specs:
            raise _OAIError("noSetHierarchy", "the catalogue has no sets yet")
        root = response.verb("ListSets")
        for spec in specs:
            element = etree.SubElement(root, _O + "set")
            etree.SubElement(element, _O + "setSpec").text = spec
            etree.SubElement(element, _O + "setName").text = self.set_name(spec)

    def set_name(self, spec: str) -> str:
        """A human-readable name of a setSpec."""
        root, _, value = spec.partition(":")
        if not value:
            return {"member": "Records by alliance member", "lang": "Records by language",
                    "type": "Records by learning resource type"}.get(root, spec)
        if root == "member":
            return f"Member: {self._member_names.get(value, value)}"
        if root == "lang":
            return f"Language: {value}"
        if root == "type":
            concept = default_vocabularies().concept(SCHEMES["learningResourceType"] + value)
            label = concept.pref_label.get("en") if concept else None
            return f"Learning resource type: {label or value}"
        return spec

    def _get(self, identifier: str) -> OAIItem:
        item = self._find(identifier)
        if item is None:
            raise _OAIError("idDoesNotExist", "no record with this identifier")
        return item

    def _GetRecord(self, response: _Response, args: dict[str, str]) -> None:
        prefix = args["metadataPrefix"]
        item = self._get(args["identifier"])
        if prefix not in WRITERS:
            raise _OAIError("cannotDisseminateFormat", f"unknown metadataPrefix {prefix!r}")
        response.splice(response.verb("GetRecord"), self._record_xml(item, prefix))

    def _ListIdentifiers(self, response: _Response, args: dict[str, str]) -> None:
        self._list(response, args, "ListIdentifiers")

    def _ListRecords(self, response: _Response, args: dict[str, str]) -> None:
        self._list(response, args, "ListRecords")

    def _list(self, response: _Response, args: dict[str, str], verb: str) -> None:
        token = args.get("resumptionToken")
        if token is not None:
            state = self._state(token)
            if state.prefix not in WRITERS:
                raise _OAIError("badResumptionToken", "the token's format is no longer served")
        else:
            prefix = args["metadataPrefix"]
            if not _PREFIX.match(prefix) or prefix not in WRITERS:
                raise _OAIError("cannotDisseminateFormat", f"unknown metadataPrefix {prefix!r}")
            from_ = until = None
            granularities = set()
            if "from" in args:
                from_, g = _parse_datestamp(args["from"], until=False)
                granularities.add(g)
            if "until" in args:
                until, g = _parse_datestamp(args["until"], until=True)
                granularities.add(g)
            if len(granularities) > 1:  # §3.3.1: both arguments at the same granularity
                raise _OAIError("badArgument", "from and until differ in granularity", echo=False)
            if from_ and until and from_ > until:
                raise _OAIError("badArgument", "from is later than until", echo=False)
            set_ = args.get("set")
            if set_ is not None:
                if not _SET_SPEC.match(set_):
                    raise _OAIError("badArgument", "not a valid setSpec", echo=False)
                if not self.backend.oai_sets():
                    raise _OAIError("noSetHierarchy", "the catalogue has no sets yet")
            total = self._count(from_, until, set_)
            state = _ListState(prefix, from_, until, set_, 0, 0, total)
        items = self.backend.oai_list(from_=state.from_, until=state.until, set_=state.set_,
                                      after_seq=state.after_seq, limit=self.page_size + 1,
                                      with_records=verb == "ListRecords", prefix=state.prefix,
                                      # pre-rendered bytes only from today's writer: never stale
                                      writer_version=WRITERS[state.prefix].version)
        if not items:
            raise _OAIError("noRecordsMatch", "no records match the request")
        more = len(items) > self.page_size
        items = items[:self.page_size]
        root = response.verb(verb)
        # The page's records as bytes, spliced in whole: building them with lxml cost more
        # than the query (a header is four elements; the metadata is mostly pre-rendered).
        if verb == "ListRecords":
            response.splice(root, b"".join(self._record_xml(item, state.prefix)
                                           for item in items))
        else:
            response.splice(root, b"".join(self._header_xml(item) for item in items))
        if token is None and not more:
            return
        delivered = state.cursor + len(items)
        total = max(state.total, delivered + (1 if more else 0))  # an estimate (§3.5.1)
        element = etree.SubElement(root, _O + "resumptionToken",
                                   completeListSize=str(total), cursor=str(state.cursor))
        if more:
            element.text = self._token(_ListState(state.prefix, state.from_, state.until,
                                                  state.set_, items[-1][0].seq, delivered, total))

    def _header_xml(self, item: OAIItem) -> bytes:
        """The item's ``<header>`` (§2.5: identifier, datestamp, setSpecs; ``status="deleted"``
        for a deleted record), in the envelope's default namespace."""
        resource, sets, _ = item
        return "".join((
            '<header status="deleted">' if resource.deleted else "<header>",
            "<identifier>", _escape(self.oai_identifier(resource.id)), "</identifier>",
            "<datestamp>", _escape(resource.updated_at), "</datestamp>",
            *(f"<setSpec>{_escape(spec)}</setSpec>" for spec in sets),
            "</header>")).encode("utf-8")

    def _record_xml(self, item: OAIItem, prefix: str) -> bytes:
        """The item's ``<record>``: header and, unless it is deleted, its metadata."""
        resource, _, written = item
        header = self._header_xml(item)
        if resource.deleted:  # §2.5.1: a deleted record has a header only
            return b"<record>" + header + b"</record>"
        if written is None:
            # Rendered now as normalization pre-renders it (a standalone element, its own
            # namespace declarations): GetRecord and ListRecords serve the same bytes.
            written = WRITERS[prefix].render(resource.record)
        return b"".join((b"<record>", header, b"<metadata>", written, b"</metadata></record>"))


def _escape(text: str) -> str:
    """XML character data as lxml writes it (``&``, ``<``, ``>``; CR as a reference so a
    parser does not normalize it away)."""
    if _PLAIN_TEXT.fullmatch(text):
        return text
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("\r", "&#13;"))


_PLAIN_TEXT = re.compile(r"[^&<>\r]*")


def _echoable(name: str, value: str) -> bool:
    """Whether ``name=value`` may be echoed in ``<request>``: only values of the type the
    OAI-PMH schema gives the attribute (``requestType``), so error responses stay valid."""
    if _NOT_XML.search(value):
        return False
    if name == "metadataPrefix":
        return bool(_PREFIX.match(value))
    if name == "set":
        return bool(_SET_SPEC.match(value))
    if name in ("from", "until"):
        try:
            _parse_datestamp(value, until=False)
        except _OAIError:
            return False
        return True
    if name == "identifier":  # anyURI: absolute (as OAI identifiers are), well-formed escapes
        return bool(_ABSOLUTE_URI.match(value)) and not _BAD_ESCAPE.search(value)
    return name == "resumptionToken"


def _checked_state(fields: Any) -> _ListState | None:
    """A token's decoded fields as a list state, or ``None`` unless every one has the type and
    range the provider writes (strings in the forms the arguments are checked against, counters
    SQLite can hold, the cursor within the list)."""
    if not isinstance(fields, list) or len(fields) != 8:
        return None
    version, prefix, from_, until, set_, after, cursor, total = fields
    if type(version) is not int or version != 1:
        return None
    if not (isinstance(prefix, str) and len(prefix) <= 200 and _PREFIX.match(prefix)):
        return None
    for stamp in (from_, until):
        if stamp is not None and not (isinstance(stamp, str) and _SECONDS.match(stamp)):
            return None
    if from_ is not None and until is not None and from_ > until:
        return None
    if set_ is not None and not (isinstance(set_, str) and len(set_) <= 500
                                 and _SET_SPEC.match(set_)):
        return None
    counters = (after, cursor, total)
    if not all(type(v) is int and 0 <= v <= _MAX_INT for v in counters) or cursor > total:
        return None
    return _ListState(prefix, from_, until, set_, after, cursor, total)


class _Response:
    """The XML of one response (§3.2): envelope, request echo, verb element or errors."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.root = etree.Element(_O + "OAI-PMH", nsmap={None: OAI_NS, "xsi": XSI_NS})  # type: ignore[dict-item]
        self.root.set(f"{{{XSI_NS}}}schemaLocation", _SCHEMA_LOCATION)
        # Browsers render the response through our stylesheet (served at {root}oai.xsl; a
        # relative href, so it works behind any public URL). Outside the root: still valid.
        self.root.addprevious(etree.ProcessingInstruction(
            "xml-stylesheet", 'type="text/xsl" href="oai.xsl"'))
        etree.SubElement(self.root, _O + "responseDate").text = _now()
        self._request: etree._Element | None = None
        self._splices: list[bytes] = []

    def request(self, verb: str | None, args: Mapping[str, str]) -> None:
        if self._request is None:
            self._request = etree.SubElement(self.root, _O + "request")
        self._request.text = self.base_url
        self._request.attrib.clear()
        if verb is not None:
            self._request.set("verb", verb)
            for name, value in args.items():
                if _echoable(name, value):
                    self._request.set(name, value)

    def verb(self, name: str) -> etree._Element:
        return etree.SubElement(self.root, _O + name)

    def error(self, code: str, message: str) -> None:
        # Drop a verb element begun before the error was found.
        for child in list(self.root)[2:]:
            self.root.remove(child)
        etree.SubElement(self.root, _O + "error", code=code).text = message

    def splice(self, parent: etree._Element, xml: bytes) -> None:
        """Put already-written metadata (one standalone element) into ``parent`` when serialized."""
        parent.append(etree.Comment(f"{_SPLICE}{len(self._splices)}"))
        self._splices.append(xml)

    def bytes(self) -> bytes:
        body = etree.tostring(self.root.getroottree(), xml_declaration=True, encoding="UTF-8")
        if not self._splices:
            return body
        splices = self._splices
        return _SPLICE_MARK.sub(lambda m: splices[int(m.group(1))], body)


_SPLICE = "eduxchange-splice-"
_SPLICE_MARK = re.compile(rb"<!--" + _SPLICE.encode() + rb"(\d+)-->")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
