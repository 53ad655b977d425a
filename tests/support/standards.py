"""The standards folder: public schemas and real-world samples the tests read, never committed.

The official XML Schemas (OAI-PMH, IEEE LOM, DCMI, W3C), the OAI-PMH specification's example responses,
real repositories' responses and records, LRMI examples and the SkoHub SHACL shapes are public material
under their publishers' licences, not ours to redistribute: they live in a standards folder beside the
project (its ``README.md`` and ``PROVENANCE.md`` say where each file comes from), and the tests read them
from there. Where the folder is absent (a plain clone), every test that needs it skips and says what is
missing and how to provide it; everything else runs. What the tests expect of these samples (goldens)
was written by us and stays in the tests.

The folder is ``$EDUXCHANGE_STANDARDS`` if that is set, else ``../shared/standards`` beside the
repository (the layout CI uses: the clone and ``shared/`` side by side). A set variable that names no
directory, or a folder that lacks a file the tests need, is an error rather than a skip: a stale or
mistyped folder must not pass silently.

The runtime needs none of this: the provider advertises the schemas' URLs and never validates against
local copies; validating its responses against the official schemas is the tests' job
(:func:`xml_schema`).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping
from importlib.resources import as_file, files
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import pytest
from lxml import etree

if TYPE_CHECKING:
    from _pytest.mark.structures import ParameterSet

__all__ = ["ENV", "standards_dir", "missing", "standard", "absent_param", "describe",
           "OAI_SAMPLES", "LOM_SAMPLES", "LRMI_SAMPLES", "SDO_LRMI_EXAMPLES", "SKOHUB_SHAPES",
           "SCHEMA_FILES", "xml_schema"]

#: The environment variable naming the standards folder.
ENV = "EDUXCHANGE_STANDARDS"

#: The repository root (this file is tests/support/standards.py).
_REPO = Path(__file__).resolve().parents[2]

#: Where the folder is when the variable is not set: beside the clone, as in CI.
_DEFAULT = _REPO.parent / "shared" / "standards"


def standards_dir() -> Path | None:
    """The standards folder, or ``None`` where it is absent (and :data:`ENV` is not set).

    Fails the test (or the collection) when :data:`ENV` is set but names no directory.
    """
    configured = os.environ.get(ENV)
    if configured:
        path = Path(configured).expanduser()
        if not path.is_dir():
            pytest.fail(f"{ENV}={configured!r} is not a directory: point it at the standards folder "
                        "(the one holding README.md and PROVENANCE.md), or unset it to use "
                        "../shared/standards beside the repository", pytrace=False)
        return path
    return _DEFAULT if _DEFAULT.is_dir() else None


def describe() -> str:
    """One line for the test report's header: which standards folder the tests read, if any."""
    folder = standards_dir()
    if folder is None:
        return (f"standards: absent (no ${ENV}, no ../shared/standards beside the repository): "
                "tests of public schemas and real-world samples skip")
    source = f"${ENV}" if os.environ.get(ENV) else "../shared/standards"
    return f"standards: {folder} ({source})"


def missing(relative: str) -> str | None:
    """Why ``relative`` (a path inside the standards folder) cannot be read, or ``None`` if it can.

    A reason is returned only when the whole folder is absent; a folder that is present but lacks
    the file fails the test, since that folder is out of date or not the standards folder.
    """
    folder = standards_dir()
    if folder is None:
        return (f"needs {relative} from the standards folder (public material, never committed to "
                f"the project): set {ENV} to that folder, or place it beside the repository as "
                "../shared/standards")
    if not (folder / relative).exists():
        pytest.fail(f"the standards folder {folder} has no {relative}: update it (its PROVENANCE.md "
                    f"names each file's source) or point {ENV} at a complete copy", pytrace=False)
    return None


def standard(relative: str) -> Path:
    """The file ``relative`` of the standards folder; skips the calling test where it is absent."""
    reason = missing(relative)
    if reason is not None:
        pytest.skip(reason)
    folder = standards_dir()
    assert folder is not None
    return folder / relative


def absent_param(relative: str, *values: Any) -> ParameterSet:
    """A single skipped parameter standing for samples that could not be listed at collection.

    For ``@pytest.mark.parametrize`` lists built from the samples' content: where the folder is
    absent they cannot be read, and an empty list would skip with pytest's unhelpful
    "got empty parameter set".
    """
    reason = missing(relative) or f"{relative} is present"
    return pytest.param(*values, id="standards-absent", marks=pytest.mark.skip(reason=reason))


# ------------------------------------------------------------------ what the tests read

#: OAI-PMH responses: the specification's examples (OAI-PMH 2.0 sections 2.5 to 5), Sickle's
#: sample data and DSpace responses recorded by pyoai at Erasmus University (``fake3`` is
#: deliberately broken).
OAI_SAMPLES: tuple[str, ...] = (
    *(f"oai_responses/spec_examples/ex-sec{s}.xml" for s in (
        "2.5", "3.2", "3.6a", "3.6b", "4.1a", "4.1b", "4.1c", "4.2", "4.3a", "4.3b", "4.3c",
        "4.4a", "4.4b", "4.4c", "4.5a", "4.5b", "4.5c", "4.6a", "4.6b", "5a", "5b")),
    *(f"oai_responses/sickle/{n}.xml" for n in (
        "GetRecord_utf8test", "ListMetadataFormats", "ListRecords", "ListSets",
        "badResumptionToken")),
    *(f"oai_responses/pyoai_dspace_erasmus/{n}.xml" for n in (
        "fake1_00001", "fake1_00005", "fake2_00000", "fake2_00002", "fake3_00001")),
)

#: Real LOM and LOM-FR records (Canal-U, UNIT ORI-OAI, Québec and Belgian repositories), from
#: GTN-Quebec/lom2mlr's test data.
LOM_SAMPLES: tuple[str, ...] = tuple(f"lom_records/lom2mlr/{n}.lom.xml" for n in (
    "4c990689afe953.52824410", "canal-u.fr-67", "respel-5214", "ressource-ressfranc30",
    "unit-ori-wf-1-4369"))

#: DCMI's LRMI examples (JSON-LD; the last one inside a ``<script>`` element).
LRMI_SAMPLES: tuple[str, ...] = tuple(f"json_profiles/lrmi_examples/{n}" for n in (
    "LRexample01.jsonld", "LRexample01a.json-ld", "type+audience+level_jsonld.json"))

#: schema.org's LRMI examples (eg-0379, eg-0380, eg-0381), JSON-LD in ``JSON:`` blocks.
SDO_LRMI_EXAMPLES = "json_profiles/schemaorg/sdo-lrmi-examples.txt"

#: SkoHub's SHACL shapes for SKOS concept schemes.
SKOHUB_SHAPES = "shacl/skohub-shapes/skohub.shacl.ttl"

#: XML Schemas by a short name: paths in the standards folder, except ``rdf``, which is the
#: project's own (``schemas/xsd/rdf/rdf-lax.xsd``, shipped in ``eduxchange.schemas``).
SCHEMA_FILES: Mapping[str, str] = MappingProxyType({
    "oai-pmh": "xsd/oai-pmh/OAI-PMH.xsd",
    "oai_dc": "xsd/oai-pmh/oai_dc.xsd",
    "oai-identifier": "xsd/oai-pmh/oai-identifier.xsd",
    "provenance": "xsd/oai-pmh/provenance.xsd",
    "lom": "xsd/lom/lomv1.0/lomLoose.xsd",
    "lom-strict": "xsd/lom/lomv1.0/lom.xsd",
})
_OWN_SCHEMAS: Mapping[str, str] = MappingProxyType({"rdf": "xsd/rdf/rdf-lax.xsd"})

#: Remote schema locations the official schemas import, mapped to files of the standards folder.
_REMOTE: Mapping[str, str] = MappingProxyType({
    "http://dublincore.org/schemas/xmls/simpledc20021212.xsd": "xsd/dcmi/simpledc20021212.xsd",
    "http://www.w3.org/2001/03/xml.xsd": "xsd/w3c/2001-03-xml.xsd",
    "http://www.w3.org/2001/xml.xsd": "xsd/w3c/2001-03-xml.xsd",
})


class _LocalResolver(etree.Resolver):
    """Resolves the remote imports of the official schemas to local files; refuses any other fetch."""

    def __init__(self, folder: Path) -> None:
        super().__init__()
        self.folder = folder

    # lxml-stubs lack the context argument and resolve_filename.
    def resolve(self, system_url: str, public_id: str, context: object) -> Any:  # type: ignore[override]
        local = _REMOTE.get(system_url)
        if local is not None:
            return self.resolve_filename(  # type: ignore[attr-defined]
                str(self.folder / local), context)
        if system_url.startswith(("http://", "https://")):
            raise OSError(f"refusing to fetch {system_url}: no copy in the standards folder")
        return None


@functools.cache
def xml_schema(*names: str) -> etree.XMLSchema:
    """One XML Schema importing the schemas ``names`` (keys of :data:`SCHEMA_FILES`, or ``rdf``).

    E.g. ``xml_schema("oai-pmh", "oai_dc", "lom", "rdf", "oai-identifier")`` validates whole
    OAI-PMH responses, metadata included (the envelope processes ``metadata``/``description``
    children strictly). Offline: remote imports resolve to the standards folder, anything else
    remote is refused. Skips the calling test where the standards folder is absent.
    """
    paths = [standard(SCHEMA_FILES[n]) for n in names if n not in _OWN_SCHEMAS]
    for remote in _REMOTE.values():
        standard(remote)  # fail now, naming the file, rather than deep inside lxml
    folder = standards_dir()
    assert folder is not None
    with as_file(files("eduxchange.schemas")) as own:
        paths += [own / _OWN_SCHEMAS[n] for n in names if n in _OWN_SCHEMAS]
        parser = etree.XMLParser(no_network=True, resolve_entities=False)
        parser.resolvers.add(_LocalResolver(folder))
        imports = "".join(f'<xs:import namespace="{_target_namespace(p)}" '
                          f'schemaLocation="{p.as_uri()}"/>' for p in paths)
        text = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
                f'elementFormDefault="qualified">{imports}</xs:schema>')
        return etree.XMLSchema(etree.ElementTree(etree.fromstring(text.encode(), parser)))


def _target_namespace(path: Path) -> str:
    tree = etree.parse(str(path), etree.XMLParser(no_network=True))
    return str(tree.getroot().get("targetNamespace"))


def oai_response_schema() -> etree.XMLSchema | None:
    """The schema of whole OAI-PMH responses (every format the provider serves), or ``None``.

    For tests whose main assertion is something else (no 5xx, the right error code): they check
    the schema too where the standards folder is present and still run where it is absent.
    """
    if standards_dir() is None:
        return None
    return _oai_response_schema()


@functools.cache
def _oai_response_schema() -> etree.XMLSchema:
    return xml_schema("oai-pmh", "oai_dc", "lom", "rdf", "oai-identifier")
