"""Real-world-shaped sample records for the demo alliance, in IEEE LOM, IMS MD 1.2 and oai_dc.

Thirty open educational resources, described by three members the way such
repositories do: an open university serving IEEE LOM (Chinese and English), a
francophone repository still serving IMS Metadata 1.2 under the prefix ``lom``
(French and Arabic), and a Latin American repository serving only ``oai_dc``
(Spanish, Russian, English). Members overlap, as they do in an alliance: the
same resource (same URL, written differently) is offered by two members, so the
catalogue shows de-duplication and provenance. The mess is deliberate: missing
languages, ``x-none``, licences written as URLs, codes and full names, HTML in
descriptions, vCards, dates of every precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

__all__ = ["SampleRecord", "MEMBERS", "records_for"]

# (ISCED-F code, subject in en/zh/fr/ar/es/ru)
_SUBJECTS = [
    ("0541", {"en": "fractions", "zh": "分数", "fr": "les fractions", "ar": "الكسور",
              "es": "las fracciones", "ru": "дроби"}),
    ("0533", {"en": "Newton's laws", "zh": "牛顿定律", "fr": "les lois de Newton",
              "ar": "قوانين نيوتن", "es": "las leyes de Newton", "ru": "законы Ньютона"}),
    ("0511", {"en": "photosynthesis", "zh": "光合作用", "fr": "la photosynthèse",
              "ar": "التمثيل الضوئي", "es": "la fotosíntesis", "ru": "фотосинтез"}),
    ("0222", {"en": "the Silk Road", "zh": "丝绸之路", "fr": "la route de la soie",
              "ar": "طريق الحرير", "es": "la Ruta de la Seda", "ru": "Шёлковый путь"}),
    ("0613", {"en": "programming with Python", "zh": "Python 编程", "fr": "programmer en Python",
              "ar": "البرمجة بلغة بايثون", "es": "programar en Python",
              "ru": "программирование на Python"}),
    ("0531", {"en": "chemical bonds", "zh": "化学键", "fr": "les liaisons chimiques",
              "ar": "الروابط الكيميائية", "es": "los enlaces químicos", "ru": "химические связи"}),
]
_TITLE = {"en": "Introduction to {s}", "zh": "{s}入门", "fr": "Introduction : {s}",
          "ar": "مقدمة في {s}", "es": "Introducción a {s}", "ru": "Введение: {s}"}
_TYPES = ["lecture", "exercise", "self assessment", "narrative text", "simulation", "exam"]
_DC_TYPES = ["MovingImage", "Text", "InteractiveResource", "Text", "Software", "Text"]
_CONTEXTS = ["school", "higher education", "school", "higher education", "training", "school"]
_LICENCES = [
    "https://creativecommons.org/licenses/by-sa/4.0/deed.zh",
    "CC BY 4.0",
    "Creative Commons Attribution-NonCommercial 4.0 International",
    "http://creativecommons.org/publicdomain/zero/1.0/",
    "Licence Creative Commons Paternité - Partage dans les Mêmes Conditions 3.0",
    "All rights reserved, free for educational use",
]
_AUTHORS = [("Li", "Wei"), ("Dupont", "Claire"), ("Haddad", "Youssef"), ("García", "Lucía"),
            ("Ivanova", "Olga"), ("Chen", "Mei")]
_FORMATS = ["video/mp4", "application/pdf", "text/html", "application/pdf", "text/html",
            "video/mp4"]


@dataclass(frozen=True, slots=True)
class SampleRecord:
    """One record of a sample member: what an OAI-PMH header and ``<metadata>`` need."""

    identifier: str
    datestamp: datetime
    sets: tuple[str, ...]
    metadata: bytes


#: (member id, name, country, OAI prefix served, format, resource numbers, languages)
MEMBERS = [
    ("ouc", "Open University (sample, IEEE LOM)", "CN", "lom", "lom", range(0, 20), ("zh", "en")),
    ("fr-edu", "Réseau éducatif francophone (sample, IMS MD 1.2)", "FR", "lom", "imsmd",
     range(10, 25), ("fr", "ar")),
    ("latam", "Repositorio abierto (sample, Dublin Core)", "MX", "oai_dc", "oai_dc",
     range(20, 30), ("es", "ru")),
]


def _url(n: int) -> str:
    return f"https://oer.example.org/resources/{n:04d}"


def _vcard(family: str, given: str) -> str:
    return (f"BEGIN:VCARD\nVERSION:3.0\nN:{family};{given};;;\nFN:{given} {family}\n"
            f"EMAIL;TYPE=INTERNET:{given.lower()}.{family.lower()}@example.org\n"
            "ORG:Open Educational Resources Alliance\nEND:VCARD")


def _lom(n: int, langs: tuple[str, ...]) -> str:
    code, subject = _SUBJECTS[n % len(_SUBJECTS)]
    family, given = _AUTHORS[n % len(_AUTHORS)]
    titles = "".join(f'<string language="{lang}">{escape(_TITLE[lang].format(s=subject[lang]))}</string>'
                     for lang in langs)
    return f"""<lom xmlns="http://ltsc.ieee.org/xsd/LOM">
  <general>
    <identifier><catalog>URI</catalog><entry>{_url(n)}</entry></identifier>
    <title>{titles}</title>
    <language>{"chi" if langs[0] == "zh" else langs[0]}</language>
    <description><string language="{langs[-1]}">&lt;p&gt;{escape(subject[langs[-1]])}: a short
      &lt;b&gt;open&lt;/b&gt; lesson.&lt;/p&gt;</string></description>
    <keyword><string language="{langs[0]}">{escape(subject[langs[0]])}</string></keyword>
  </general>
  <lifeCycle>
    <contribute><role><source>LOMv1.0</source><value>author</value></role>
      <entity>{escape(_vcard(family, given))}</entity>
      <date><dateTime>{2019 + n % 5}-0{1 + n % 9}-1{n % 10}</dateTime></date></contribute>
    <contribute><role><source>LOMv1.0</source><value>publisher</value></role>
      <entity>BEGIN:VCARD
VERSION:3.0
FN:Open University
ORG:Open University
END:VCARD</entity>
      <date><dateTime>{2020 + n % 4}</dateTime></date></contribute>
  </lifeCycle>
  <technical><format>{_FORMATS[n % 6]}</format><location>{_url(n)}</location>
    <duration><duration>PT{n % 3}H{15 + n % 40}M</duration></duration></technical>
  <educational>
    <learningResourceType><source>LOMv1.0</source><value>{_TYPES[n % 6]}</value></learningResourceType>
    <intendedEndUserRole><source>LOMv1.0</source><value>{"learner" if n % 3 else "teacher"}</value></intendedEndUserRole>
    <context><source>LOMv1.0</source><value>{_CONTEXTS[n % 6]}</value></context>
    <typicalAgeRange><string language="x-none">{10 + n % 8}-{12 + n % 8}</string></typicalAgeRange>
  </educational>
  <rights><cost><source>LOMv1.0</source><value>no</value></cost>
    <copyrightAndOtherRestrictions><source>LOMv1.0</source><value>yes</value></copyrightAndOtherRestrictions>
    <description><string language="x-none">{escape(_LICENCES[n % 6])}</string></description></rights>
  <classification><purpose><source>LOMv1.0</source><value>discipline</value></purpose>
    <taxonPath><source><string language="en">ISCED-F 2013</string></source>
      <taxon><id>{code}</id><entry><string language="en">{code}</string></entry></taxon></taxonPath>
  </classification>
</lom>"""


def _imsmd(n: int, langs: tuple[str, ...]) -> str:
    code, subject = _SUBJECTS[n % len(_SUBJECTS)]
    family, given = _AUTHORS[(n + 1) % len(_AUTHORS)]
    titles = "".join(f'<langstring xml:lang="{lang}">{escape(_TITLE[lang].format(s=subject[lang]))}</langstring>'
                     for lang in langs)
    vocab = ('<source><langstring xml:lang="x-none">LOMv1.0</langstring></source>'
             '<value><langstring xml:lang="x-none">{}</langstring></value>')
    return f"""<lom xmlns="http://www.imsglobal.org/xsd/imsmd_v1p2">
  <general>
    <title>{titles}</title>
    <language>{langs[0]}</language>
    <description><langstring xml:lang="{langs[0]}">{escape(subject[langs[0]])} &amp;nbsp;— fiche.</langstring></description>
    <keyword><langstring xml:lang="{langs[0]}">{escape(subject[langs[0]])}</langstring></keyword>
  </general>
  <lifecycle><contribute><role>{vocab.format("Author")}</role>
    <centity><vcard>{escape(_vcard(family, given))}</vcard></centity>
    <date><datetime>{2018 + n % 6}-{1 + n % 12:02d}</datetime></date></contribute></lifecycle>
  <technical><format>{_FORMATS[(n + 2) % 6]}</format><location>{_url(n)}/</location></technical>
  <educational><learningresourcetype>{vocab.format(_TYPES[(n + 1) % 6].title())}</learningresourcetype>
    <intendedenduserrole>{vocab.format("Learner")}</intendedenduserrole></educational>
  <rights><cost>{vocab.format("no")}</cost>
    <description><langstring xml:lang="fr">{escape(_LICENCES[(n + 1) % 6])}</langstring></description></rights>
</lom>"""


def _oai_dc(n: int, langs: tuple[str, ...]) -> str:
    code, subject = _SUBJECTS[n % len(_SUBJECTS)]
    family, given = _AUTHORS[(n + 2) % len(_AUTHORS)]
    lang = langs[n % len(langs)]
    return f"""<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"
  xmlns:dc="http://purl.org/dc/elements/1.1/">
  <dc:title xml:lang="{lang}">{escape(_TITLE[lang].format(s=subject[lang]))}</dc:title>
  <dc:creator>{escape(family)}, {escape(given)}</dc:creator>
  <dc:subject>{escape(subject[lang])}</dc:subject>
  <dc:description>{escape(subject[lang])}.</dc:description>
  <dc:publisher>Repositorio abierto</dc:publisher>
  <dc:date>{2017 + n % 7}-{1 + n % 12:02d}-{1 + n % 27:02d}</dc:date>
  <dc:type>{_DC_TYPES[n % 6]}</dc:type>
  <dc:format>{_FORMATS[n % 6]}</dc:format>
  <dc:identifier>http://OER.example.org:80/resources/{n:04d}?utm_source=oai</dc:identifier>
  <dc:language>{"spa" if lang == "es" else "rus"}</dc:language>
  <dc:rights>{escape(_LICENCES[(n + 2) % 6])}</dc:rights>
</oai_dc:dc>"""


_BUILDERS = {"lom": _lom, "imsmd": _imsmd, "oai_dc": _oai_dc}


def records_for(member_id: str, *, now: datetime | None = None) -> list[SampleRecord]:
    """The sample records one demo member serves (datestamps spread over the last weeks)."""
    now = (now or datetime.now(UTC)).replace(microsecond=0, tzinfo=None)
    for mid, _name, _country, _prefix, fmt, numbers, langs in MEMBERS:
        if mid == member_id:
            build = _BUILDERS[fmt]
            return [
                SampleRecord(identifier=f"oai:{mid}.example.org:{n:04d}",
                             datestamp=now - timedelta(days=30 - n),
                             sets=(_SUBJECTS[n % len(_SUBJECTS)][0][:2],),
                             metadata=build(n, langs).encode("utf-8"))
                for n in numbers
            ]
    raise KeyError(member_id)
