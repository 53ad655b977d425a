"""Exceptions: one root, :class:`EduxchangeError`, for runs that cannot go on.

Problems with *data* (a record that cannot be read, a repaired byte) are not
exceptions: they are :class:`eduxchange.core.models.Issue` values gathered in a
harvest result. Exceptions are for a run (or one member's run) that must stop.

OAI-PMH error codes (OAI-PMH 2.0, section 3.6) map to classes through the
explicit table :data:`OAI_ERRORS`.
"""

from __future__ import annotations

__all__ = [
    "EduxchangeError",
    "ConfigError",
    "StoreError",
    "StoreLocked",
    "LeaseLost",
    "HarvestStopped",
    "TransportError",
    "DeadlineExceeded",
    "RedirectRefused",
    "HostileXMLError",
    "MalformedResponseError",
    "ProtocolError",
    "EndlessListError",
    "OAIError",
    "BadArgument",
    "BadResumptionToken",
    "BadVerb",
    "CannotDisseminateFormat",
    "IdDoesNotExist",
    "NoRecordsMatch",
    "NoMetadataFormats",
    "NoSetHierarchy",
    "OAI_ERRORS",
    "oai_error",
]


class EduxchangeError(Exception):
    """Root of every exception eduxchange raises on purpose."""


class ConfigError(EduxchangeError):
    """The configuration file is missing or invalid.

    The message names the file, the member and the key, so an operator can fix it.
    """


class StoreError(EduxchangeError):
    """The catalogue store cannot be opened or written."""


class StoreLocked(StoreError):
    """Another harvest holds the store's lock; nothing was done.

    ``holder`` is what the holder wrote into the lock file (``pid``, ``host``,
    ``started_at``, ``command``), empty when it could not be read.
    """

    def __init__(self, message: str, *, holder: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.holder = dict(holder or {})


class LeaseLost(StoreError):
    """A harvest worker's lease on a member expired and another worker took the member over.

    The run stops before its next write, so the two never both commit pages of the member
    (:mod:`eduxchange.workers`).
    """


class HarvestStopped(EduxchangeError):
    """A harvest worker was asked to stop (``SIGINT``, ``SIGTERM``) and its run stopped before
    its next page: what it committed is kept, its lease is released (not finished), and the
    member's next harvest, by any worker, resumes from there."""


class TransportError(EduxchangeError):
    """HTTP failed for good: retries exhausted, or a non-retryable status."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class DeadlineExceeded(TransportError):
    """A member's run took longer than its ``run_timeout``; it is stopped, not retried."""


class RedirectRefused(TransportError):
    """A redirect eduxchange will not follow: another host or scheme, a downgrade, a loop."""


class HostileXMLError(EduxchangeError):
    """A response tried external entities, entity expansion or another XML attack."""


class MalformedResponseError(EduxchangeError):
    """A response is not OAI-PMH at all (not XML, wrong root, page unreadable)."""


class ProtocolError(EduxchangeError):
    """The member breaks the protocol in a way a harvest cannot survive.

    Examples: a resumption token repeated forever, endless empty pages, no
    metadata format we can read.
    """


class EndlessListError(ProtocolError):
    """A list keeps handing out fresh resumption tokens without making progress.

    Raised by :class:`eduxchange.harvesting.client.ListGuard`; the harvester keeps every page
    committed before and does not resume from the last token of such a list.
    """


class OAIError(EduxchangeError):
    """An ``<error code="...">`` returned by an OAI-PMH repository (OAI-PMH 3.6)."""

    code = "unknown"

    def __init__(self, message: str = "") -> None:
        super().__init__(f"{self.code}: {message}" if message else self.code)
        self.message = message


class BadArgument(OAIError):
    code = "badArgument"


class BadResumptionToken(OAIError):
    code = "badResumptionToken"


class BadVerb(OAIError):
    code = "badVerb"


class CannotDisseminateFormat(OAIError):
    code = "cannotDisseminateFormat"


class IdDoesNotExist(OAIError):
    code = "idDoesNotExist"


class NoRecordsMatch(OAIError):
    code = "noRecordsMatch"


class NoMetadataFormats(OAIError):
    code = "noMetadataFormats"


class NoSetHierarchy(OAIError):
    code = "noSetHierarchy"


#: OAI-PMH 2.0 section 3.6: every error code the protocol defines, to its class.
OAI_ERRORS: dict[str, type[OAIError]] = {
    cls.code: cls
    for cls in (
        BadArgument,
        BadResumptionToken,
        BadVerb,
        CannotDisseminateFormat,
        IdDoesNotExist,
        NoRecordsMatch,
        NoMetadataFormats,
        NoSetHierarchy,
    )
}


def oai_error(code: str, message: str = "") -> OAIError:
    """Build the exception for an OAI-PMH error code (unknown codes give :class:`OAIError`)."""
    cls = OAI_ERRORS.get(code)
    if cls is None:
        err = OAIError(message)
        err.code = code
        err.args = (f"{code}: {message}" if message else code,)
        return err
    return cls(message)
