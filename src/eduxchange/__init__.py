"""eduxchange: federated exchange of open educational resource (OER) metadata.

Harvest alliance members over OAI-PMH into a local catalogue store, incrementally
and resiliently::

    import eduxchange
    config = eduxchange.load_config("alliance.toml")
    for result in eduxchange.harvest(config):
        print(result.member_id, result.state, result.new, result.updated, result.deleted)

Turn one metadata record into the common record's shape (pure, no I/O)::

    description = eduxchange.crosswalk(lom_xml_bytes)   # format detected by namespace

Read one repository without a store::

    with eduxchange.OAIClient("https://example.org/oai") as client:
        for record in client.list_records(metadata_prefix="oai_dc"):
            print(record.identifier)
"""

from __future__ import annotations

from .harvesting.client import OAIClient
from .core.config import Config, HarvestSettings, MemberConfig, load_config, parse_config
from .core.errors import (
    ConfigError,
    EduxchangeError,
    HostileXMLError,
    MalformedResponseError,
    OAIError,
    ProtocolError,
    StoreError,
    TransportError,
)
from .catalog.normalization import Catalog, NormalizeResult
from .crosswalks import CrosswalkError, CrosswalkOptions, crosswalk
from .harvesting.formats import choose_format
from .harvesting.harvester import Harvester, ProgressEvent
from .core.models import (
    HarvestResult,
    Header,
    IdentifyInfo,
    Issue,
    MemberStatus,
    MetadataFormat,
    Page,
    Quarantined,
    RawRecord,
    SetInfo,
)
from .core import dates
from .core.record import CommonRecord, Description
from .publish import export
from .pipeline import (
    catalogue_counts,
    harvest,
    harvest_events,
    harvest_log,
    member_statuses,
    normalize_catalog,
    open_store,
    quarantine_entries,
)
from .store import CatalogStore, SQLiteStore

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "OAIClient",
    "Config",
    "HarvestSettings",
    "MemberConfig",
    "load_config",
    "parse_config",
    "ConfigError",
    "EduxchangeError",
    "HostileXMLError",
    "MalformedResponseError",
    "OAIError",
    "ProtocolError",
    "StoreError",
    "TransportError",
    "choose_format",
    "crosswalk",
    "CrosswalkError",
    "CrosswalkOptions",
    "CommonRecord",
    "Description",
    "Catalog",
    "NormalizeResult",
    "Harvester",
    "ProgressEvent",
    "HarvestResult",
    "Header",
    "IdentifyInfo",
    "Issue",
    "MemberStatus",
    "MetadataFormat",
    "Page",
    "Quarantined",
    "RawRecord",
    "SetInfo",
    "harvest",
    "member_statuses",
    "open_store",
    "quarantine_entries",
    "harvest_log",
    "harvest_events",
    "normalize_catalog",
    "catalogue_counts",
    "CatalogStore",
    "SQLiteStore",
]
