"""Deterministic generator of realistic IEEE LOM (LOMv1.0 XML binding) records.

``lom_xml(i)`` always returns the same bytes for the same ``i``: record
numbers pick titles, topics, people, vocabulary values and licences from
small multilingual tables (with non-ASCII text such as "Einführung" and
"Jürgen Müller"), giving records of roughly 2-3 KB like real OER metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from xml.sax.saxutils import escape, quoteattr

from lxml import etree

from tests.support.records import MemberRecord, naive_utc

__all__ = [
    "LOM_NS",
    "LOM_SCHEMA",
    "OAI_DC_NS",
    "OAI_DC_SCHEMA",
    "LANGUAGES",
    "record_identifier",
    "lom_xml",
    "oai_dc_xml",
    "make_records",
]

LOM_NS = "http://ltsc.ieee.org/xsd/LOM"
LOM_SCHEMA = "http://ltsc.ieee.org/xsd/lomv1.0/lom.xsd"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_DC_SCHEMA = "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"
DC_NS = "http://purl.org/dc/elements/1.1/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"

LANGUAGES = ("en", "de", "nl", "fr")

# (ISCED-F 2013 code, discipline per language, topic per language)
_SUBJECTS: tuple[tuple[str, dict[str, str], dict[str, str]], ...] = (
    ("0511", {"en": "Biology", "de": "Biologie", "nl": "Biologie", "fr": "Biologie"},
     {"en": "photosynthesis", "de": "Photosynthese", "nl": "fotosynthese", "fr": "photosynthèse"}),
    ("0541", {"en": "Mathematics", "de": "Mathematik", "nl": "Wiskunde", "fr": "Mathématiques"},
     {"en": "linear algebra", "de": "lineare Algebra", "nl": "lineaire algebra",
      "fr": "algèbre linéaire"}),
    ("0533", {"en": "Physics", "de": "Physik", "nl": "Natuurkunde", "fr": "Physique"},
     {"en": "thermodynamics", "de": "Thermodynamik", "nl": "thermodynamica",
      "fr": "thermodynamique"}),
    ("0222", {"en": "History", "de": "Geschichte", "nl": "Geschiedenis", "fr": "Histoire"},
     {"en": "industrialisation", "de": "Industrialisierung", "nl": "industrialisatie",
      "fr": "industrialisation"}),
    ("0613", {"en": "Software development", "de": "Softwareentwicklung",
              "nl": "Softwareontwikkeling", "fr": "Développement logiciel"},
     {"en": "unit testing", "de": "Unit-Tests", "nl": "unittesten", "fr": "tests unitaires"}),
    ("0531", {"en": "Chemistry", "de": "Chemie", "nl": "Scheikunde", "fr": "Chimie"},
     {"en": "chemical equilibrium", "de": "chemisches Gleichgewicht",
      "nl": "chemisch evenwicht", "fr": "équilibre chimique"}),
)

_TITLES = {
    "en": ("Introduction to {t}", "Worked examples: {t}", "Lecture notes on {t}",
           "Exercises in {t}"),
    "de": ("Einführung in {t}", "Übungsaufgaben: {t}", "Vorlesungsskript zu {t}",
           "Übungen zu {t}"),
    "nl": ("Inleiding tot {t}", "Uitgewerkte voorbeelden: {t}", "Collegeaantekeningen over {t}",
           "Oefeningen in {t}"),
    "fr": ("Introduction à {t}", "Exemples corrigés : {t}", "Notes de cours sur {t}",
           "Exercices de {t}"),
}
_PART = {"en": "part", "de": "Teil", "nl": "deel", "fr": "partie"}
_DESCRIPTIONS = {
    "en": "This open educational resource introduces {t} ({d}). It combines short "
          "explanations with worked examples and ends with self-assessment questions, "
          "so it can be used for self-study or in a flipped-classroom course.",
    "de": "Diese offene Bildungsressource führt in {t} ({d}) ein. Kurze Erklärungen "
          "wechseln sich mit Beispielen ab; am Ende stehen Fragen zur Selbstüberprüfung, "
          "sodass sie sich für das Selbststudium und den Präsenzunterricht eignet.",
    "nl": "Dit open leermateriaal behandelt {t} ({d}). Korte uitleg wordt afgewisseld "
          "met uitgewerkte voorbeelden en het eindigt met zelftoetsvragen, zodat het "
          "geschikt is voor zelfstudie en voor een flipped-classroom cursus.",
    "fr": "Cette ressource éducative libre présente {t} ({d}). De courtes explications "
          "alternent avec des exemples corrigés et elle se termine par des questions "
          "d'auto-évaluation, pour l'étude autonome ou la classe inversée.",
}
_PEOPLE = (
    ("Doe", "Jane", "Example University"),
    ("Müller", "Jürgen", "Hochschule Beispielstadt"),
    ("de Vries", "Anna", "Open Leren Lab"),
    ("Lefèvre", "François", "Université Exemple"),
    ("Álvarez", "Sofía", "Example University"),
    ("Nowak", "Piotr", "Open Learning Lab"),
)
_RESOURCE_TYPES = ("lecture", "exercise", "narrative text", "slide", "simulation",
                   "self assessment", "problem statement")
_INTERACTIVITY = ("expositive", "active", "mixed")
_CONTEXTS = ("higher education", "school", "training")
_ROLES = ("learner", "teacher")
_FORMATS = (("text/html", 48_213), ("application/pdf", 1_203_557), ("video/mp4", 73_400_320))
_LICENCES = (
    "https://creativecommons.org/licenses/by/4.0/",
    "https://creativecommons.org/licenses/by-sa/4.0/",
    "https://creativecommons.org/publicdomain/zero/1.0/",
    "https://creativecommons.org/licenses/by-nc/4.0/",
)


def record_identifier(i: int) -> str:
    """The OAI identifier of record number ``i``: ``oai:example.org:rec-000001``."""
    return f"oai:example.org:rec-{i:06d}"


def _pick(values: Sequence[object], i: int, salt: int) -> object:
    return values[(i * 7 + salt) % len(values)]


def _vocab(tag: str, value: str, pad: str) -> str:
    return f"{pad}<{tag}><source>LOMv1.0</source><value>{escape(value)}</value></{tag}>"


def _langstring(tag: str, texts: Sequence[tuple[str, str]], pad: str) -> str:
    if len(texts) == 1:
        (lang, text), = texts
        return f"{pad}<{tag}><string language={quoteattr(lang)}>{escape(text)}</string></{tag}>"
    inner = "".join(f"\n{pad}  <string language={quoteattr(lang)}>{escape(text)}</string>"
                    for lang, text in texts)
    return f"{pad}<{tag}>{inner}\n{pad}</{tag}>"


def _vcard(person: tuple[str, str, str]) -> str:
    family, given, org = person
    return (f"BEGIN:VCARD\nVERSION:3.0\nN:{family};{given};;;\nFN:{given} {family}\n"
            f"ORG:{org}\nEND:VCARD")


def _contribute(role: str, person: tuple[str, str, str], when: date, pad: str) -> str:
    return (f"{pad}<contribute>\n{_vocab('role', role, pad + '  ')}\n"
            f"{pad}  <entity>{escape(_vcard(person))}</entity>\n"
            f"{pad}  <date><dateTime>{when.isoformat()}</dateTime></date>\n{pad}</contribute>")


def lom_xml(i: int, *, title_lang: str = "en") -> bytes:
    """Record number ``i`` as one ``<lom xmlns="http://ltsc.ieee.org/xsd/LOM">`` element.

    The title is in ``title_lang`` (one of :data:`LANGUAGES`), plus a second
    language for every third record. No XML declaration: the bytes are meant
    to go inside an OAI-PMH ``<metadata>`` element.
    """
    if title_lang not in _TITLES:
        raise ValueError(f"title_lang must be one of {LANGUAGES}")
    code, disciplines, topics = _SUBJECTS[i % len(_SUBJECTS)]
    langs = [title_lang]
    if i % 3 == 0:
        langs.append(LANGUAGES[(LANGUAGES.index(title_lang) + 1) % len(LANGUAGES)])
    titles = [
        (lang, f"{_TITLES[lang][i % 4].format(t=topics[lang])}, {_PART[lang]} {i}")
        for lang in langs
    ]
    url = f"https://oer.example.org/resources/{i:06d}"
    author = _PEOPLE[i % len(_PEOPLE)]
    publisher = _PEOPLE[(i + 2) % len(_PEOPLE)]
    created = date(2019, 1, 1) + timedelta(days=(i * 37) % 1500)
    mime, size = _FORMATS[i % len(_FORMATS)]
    keywords = (topics[title_lang], disciplines[title_lang], str(_pick(_RESOURCE_TYPES, i, 1)))
    description = _DESCRIPTIONS[title_lang].format(t=topics[title_lang], d=disciplines[title_lang])
    p2, p4 = "  ", "    "
    parts = [
        f'<lom xmlns="{LOM_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{LOM_NS} {LOM_SCHEMA}">',
        f"{p2}<general>",
        f"{p4}<identifier>\n{p4}  <catalog>URI</catalog>\n{p4}  <entry>{url}</entry>\n"
        f"{p4}</identifier>",
        _langstring("title", titles, p4),
        f"{p4}<language>{title_lang}</language>",
        _langstring("description", [(title_lang, description)], p4),
        *(_langstring("keyword", [(title_lang, k)], p4) for k in keywords),
        f"{p2}</general>",
        f"{p2}<lifeCycle>",
        _langstring("version", [("x-none", f"1.{i % 4}")], p4),
        _vocab("status", "final", p4),
        _contribute("author", author, created, p4),
        _contribute("publisher", publisher, created + timedelta(days=14), p4),
        f"{p2}</lifeCycle>",
        f"{p2}<technical>",
        f"{p4}<format>{mime}</format>",
        f"{p4}<size>{size + i}</size>",
        f"{p4}<location>{url}</location>",
        f"{p2}</technical>",
        f"{p2}<educational>",
        _vocab("interactivityType", str(_pick(_INTERACTIVITY, i, 2)), p4),
        _vocab("learningResourceType", str(_pick(_RESOURCE_TYPES, i, 1)), p4),
        _vocab("intendedEndUserRole", str(_pick(_ROLES, i, 3)), p4),
        _vocab("context", str(_pick(_CONTEXTS, i, 4)), p4),
        _langstring("typicalAgeRange", [("x-none", "18-" if i % 2 else "12-16")], p4),
        f"{p4}<typicalLearningTime><duration>PT{1 + i % 3}H{(i * 15) % 60}M</duration>"
        "</typicalLearningTime>",
        f"{p4}<language>{title_lang}</language>",
        f"{p2}</educational>",
        f"{p2}<rights>",
        _vocab("cost", "no", p4),
        _vocab("copyrightAndOtherRestrictions", "yes", p4),
        _langstring("description", [("x-none", str(_pick(_LICENCES, i, 5)))], p4),
        f"{p2}</rights>",
        f"{p2}<classification>",
        _vocab("purpose", "discipline", p4),
        f"{p4}<taxonPath>",
        _langstring("source", [("en", "ISCED-F 2013")], p4 + p2),
        f"{p4}  <taxon>\n{p4}    <id>{code}</id>",
        _langstring("entry", [(lang, disciplines[lang]) for lang in langs], p4 + p4),
        f"{p4}  </taxon>",
        f"{p4}</taxonPath>",
        f"{p2}</classification>",
        "</lom>",
    ]
    return "\n".join(parts).encode("utf-8")


_SAFE_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def oai_dc_xml(metadata: bytes, identifier: str) -> bytes:
    """An ``<oai_dc:dc>`` element derived from LOM ``metadata`` (title, creator,
    subject, description, date, format, identifier, language, rights).

    Metadata that already is an ``oai_dc:dc`` element is returned unchanged;
    anything else that is not well-formed LOM gives a minimal record holding
    only ``dc:identifier``, so a broken record can still be listed as oai_dc.
    """
    fields: list[tuple[str, str]] = []
    try:
        lom = etree.fromstring(metadata, _SAFE_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        lom = None
    if lom is not None and lom.tag == f"{{{OAI_DC_NS}}}dc":
        return metadata
    if lom is not None and lom.tag == f"{{{LOM_NS}}}lom":
        ns = {"l": LOM_NS}

        def texts(path: str) -> list[str]:
            return [str(t).strip() for t in lom.xpath(path, namespaces=ns) if str(t).strip()]

        fields += [("title", t) for t in texts("l:general/l:title/l:string/text()")]
        for vcard in texts("l:lifeCycle/l:contribute[l:role/l:value='author']/l:entity/text()"):
            fields += [("creator", line[3:]) for line in vcard.splitlines()
                       if line.startswith("FN:")]
        fields += [("subject", t) for t in texts("l:general/l:keyword/l:string/text()")]
        fields += [("description", t) for t in texts("l:general/l:description/l:string/text()")]
        fields += [("date", t) for t in texts("l:lifeCycle/l:contribute/l:date/l:dateTime/text()")]
        fields += [("format", t) for t in texts("l:technical/l:format/text()")]
        fields += [("identifier", t) for t in texts("l:technical/l:location/text()")]
        fields += [("language", t) for t in texts("l:general/l:language/text()")]
        fields += [("rights", t) for t in texts("l:rights/l:description/l:string/text()")]
    fields.append(("identifier", identifier))
    body = "".join(f"\n  <dc:{name}>{escape(value)}</dc:{name}>" for name, value in fields)
    return (
        f'<oai_dc:dc xmlns:oai_dc="{OAI_DC_NS}" xmlns:dc="{DC_NS}" xmlns:xsi="{XSI_NS}" '
        f'xsi:schemaLocation="{OAI_DC_NS} {OAI_DC_SCHEMA}">{body}\n</oai_dc:dc>'
    ).encode("utf-8")


def make_records(
    n: int,
    *,
    start: datetime,
    step: timedelta,
    sets: Sequence[str] = (),
    prefix: str = "lom",
    first: int = 1,
) -> list[MemberRecord]:
    """``n`` records numbered ``first, first+1, ...`` with datestamps ``start + k*step``.

    Sets are assigned round-robin; when there are several, every fifth record
    is also in the next set (so a few records are in two sets). Title
    languages cycle through :data:`LANGUAGES`. ``prefix`` chooses the stored
    metadata format: ``"lom"`` (the LOM element) or ``"oai_dc"`` (derived DC).
    """
    if prefix not in ("lom", "oai_dc"):
        raise ValueError("prefix must be 'lom' or 'oai_dc'")
    start = naive_utc(start)
    records = []
    for k in range(n):
        i = first + k
        specs: tuple[str, ...] = ()
        if sets:
            specs = (sets[(i - 1) % len(sets)],)
            if len(sets) > 1 and i % 5 == 0:
                specs += (sets[i % len(sets)],)
        identifier = record_identifier(i)
        metadata = lom_xml(i, title_lang=LANGUAGES[i % len(LANGUAGES)])
        if prefix == "oai_dc":
            metadata = oai_dc_xml(metadata, identifier)
        records.append(MemberRecord(identifier, start + k * step, specs, False, metadata))
    return records
