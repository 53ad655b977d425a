"""The normalisation helpers (eduxchange.normalize): golden tables of real-world spellings and
properties (hypothesis): no input makes them raise, and their outputs are fixed points.

Literals marked "LOM" are copied from the LOM records in shared/standards/lom_records/
(GTN-Quebec/lom2mlr test data: Canal-U, UNIT, ENSEIGNEMENT.be, CCDMD, Eurêka; DLESE via jOAI).
"""

from __future__ import annotations

import doctest
import re
from importlib.resources import files

import pytest
import rdflib
from hypothesis import given, settings
from hypothesis import strategies as st
from rdflib.namespace import RDF, SKOS

from eduxchange import normalize
from eduxchange.normalize import (
    Agent,
    canonical_license,
    clean_text,
    language_key,
    normalize_date,
    normalize_duration,
    normalize_language,
    normalize_languages,
    parse_name,
    parse_vcard,
    split_keywords,
)
from eduxchange.normalize import dates, languages, licenses, text, vcard

PROPERTIES = settings(max_examples=75, deadline=None)

# --- languages ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [
    ("en", "en"), ("eng", "en"), ("EN", "en"), (" en ", "en"),
    ("chi", "zh"), ("zho", "zh"), ("cmn", "zh"), ("zh-CN", "zh-CN"), ("zh_Hans", "zh-Hans"),
    ("zh-hant-tw", "zh-Hant-TW"),
    ("fre", "fr"), ("FRE", "fr"), ("fra", "fr"), ("fr-CA", "fr-CA"), ("fra-CA", "fr-CA"),  # LOM
    ("ger", "de"), ("deu", "de"), ("de-DE", "de-DE"), ("en_US", "en-US"), ("en-us", "en-US"),
    ("ara", "ar"), ("arb", "ar"), ("rus", "ru"), ("spa", "es"), ("es-419", "es-419"),
    ("iw", "he"), ("mul", "mul"),
    ("French", "fr"), ("français", "fr"), ("Französisch", "fr"), ("anglais", "en"),
    ("English", "en"), ("Deutsch", "de"), ("Chinese", "zh"), ("中文", "zh"), ("العربية", "ar"),
    ("русский", "ru"), ("español", "es"), ("Inglés", "en"),
    ("x-none", None), ("none", None), ("und", None), ("zxx", None), ("", None), ("  ", None),
    ("x-klingon", None), ("qaa", None), ("garbage!!", None), ("123", None), ("a", None),
    ("n/a", None), ("\x00", None), ("thisisnotalanguage", None),
])
def test_normalize_language(value: str, expected: str | None) -> None:
    assert normalize_language(value) == expected


def test_normalize_languages_dedupes_keeps_order_and_splits_lists() -> None:
    assert normalize_languages(["FRE", "fr", "en; de", "x-none", "eng", "zh_CN"]) == [
        "fr", "en", "de", "zh-CN"]
    assert normalize_languages([]) == []


@pytest.mark.parametrize(("value", "expected"), [
    ("fre", "fr"), ("fr-CA", "fr-CA"), (None, "@none"), ("", "@none"), ("x-none", "@none"),
    ("und", "@none"), ("garbage!!", "@none"),
])
def test_language_key(value: str | None, expected: str) -> None:
    assert language_key(value) == expected


# --- licences -----------------------------------------------------------------------------------

CC = "https://creativecommons.org/licenses/"
GNU = "https://www.gnu.org/licenses/"
PDM = normalize.PUBLIC_DOMAIN_MARK
BY_SA_4 = CC + "by-sa/4.0/"


@pytest.mark.parametrize(("value", "expected"), [
    # CC URLs of any shape
    ("http://creativecommons.org/licenses/by-sa/4.0/", BY_SA_4),
    ("https://creativecommons.org/licenses/by-sa/4.0", BY_SA_4),
    ("http://www.creativecommons.org/licenses/by-sa/4.0/deed.fr", BY_SA_4),
    ("https://creativecommons.org/licenses/by-sa/4.0/legalcode", BY_SA_4),
    ("https://creativecommons.org/licenses/by-sa/4.0/legalcode.de", BY_SA_4),
    ("creativecommons.org/licenses/by-sa/4.0/", BY_SA_4),
    ("HTTP://CreativeCommons.org/Licenses/BY-SA/4.0/", BY_SA_4),
    ("https://creativecommons.org/licenses/by-sa/4.0/?ref=chooser-v1", BY_SA_4),
    ("https://creativecommons.org/licenses/by-sa/4.0/de/", BY_SA_4),  # 4.0 has no ports
    ("https://creativecommons.org/licenses/by-sa/", BY_SA_4),
    ("http://creativecommons.org/licenses/by/3.0/de/", CC + "by/3.0/de/"),
    ("http://creativecommons.org/licenses/by/3.0/de/deed.en",
     CC + "by/3.0/de/"),
    ("http://creativecommons.org/licenses/by-nc-sa/2.5/ca/",
     CC + "by-nc-sa/2.5/ca/"),
    ("http://creativecommons.org/licenses/by-nc-nd/3.0/igo/legalcode",
     CC + "by-nc-nd/3.0/igo/"),
    ("https://creativecommons.org/licenses/by/3.0/deed.de", CC + "by/3.0/"),
    ("https://creativecommons.org/licenses/by-nd-nc/1.0/", CC + "by-nd-nc/1.0/"),
    ("http://creativecommons.org/publicdomain/zero/1.0/deed.de", normalize.CC0),
    ("https://creativecommons.org/publicdomain/zero/1.0", normalize.CC0),
    ("http://creativecommons.org/publicdomain/mark/1.0/", PDM),
    ("http://creativecommons.org/licenses/publicdomain/", CC + "publicdomain/"),
    ("https://i.creativecommons.org/l/by-sa/4.0/88x31.png", BY_SA_4),
    ('<a rel="license" href="http://creativecommons.org/licenses/by-sa/4.0/"><img alt="Creative '
     'Commons License" src="https://i.creativecommons.org/l/by-sa/4.0/88x31.png" /></a>', BY_SA_4),
    ("Dieses Werk ist lizenziert unter https://creativecommons.org/licenses/by-sa/4.0/deed.de.",
     BY_SA_4),
    # SPDX ids and URLs
    ("CC-BY-SA-4.0", BY_SA_4), ("cc-by-sa-4.0", BY_SA_4), ("CC0-1.0", normalize.CC0),
    ("CC-BY-NC-ND-3.0-DE", CC + "by-nc-nd/3.0/de/"),
    ("CC-BY-NC-SA-2.0-FR", CC + "by-nc-sa/2.0/fr/"),
    ("CC-BY-NC-ND-1.0", CC + "by-nd-nc/1.0/"),
    ("https://spdx.org/licenses/CC-BY-SA-4.0.html", BY_SA_4),
    ("https://spdx.org/licenses/CC0-1.0.html", normalize.CC0),
    # codes
    ("CC BY-SA 4.0", BY_SA_4), ("CC BY-SA", BY_SA_4), ("cc-by-sa", BY_SA_4),
    ("CC-BY-SA 4", BY_SA_4),
    ("BY-SA", BY_SA_4), ("CC BY-SA 4.0 International", BY_SA_4), ("CC BY-SA 4.0 Deed", BY_SA_4),
    ("CC BY-NC 4.0", CC + "by-nc/4.0/"),
    ("CC BY 4.0 International", CC + "by/4.0/"),
    ("CC-BY", CC + "by/4.0/"),
    ("Lizenz: CC BY-SA 3.0 DE", CC + "by-sa/3.0/de/"),
    ("CC BY-SA 3.0 Deutschland", CC + "by-sa/3.0/de/"),
    ("CC BY-NC-SA 3.0 IGO", CC + "by-nc-sa/3.0/igo/"),
    ("CC BY-SA 2.1 JP", CC + "by-sa/2.1/jp/"),
    ("CC BY 3.0 Unported", CC + "by/3.0/"),
    ("CC BY 4.0 (https://example.org/terms)", CC + "by/4.0/"),
    # names, in several languages
    ("Creative Commons Attribution-ShareAlike 4.0 International", BY_SA_4),
    ("Creative Commons Attribution-ShareAlike 4.0 International (CC BY-SA 4.0)", BY_SA_4),
    ("Attribution-ShareAlike 4.0 International", BY_SA_4),
    ("This work is licensed under a Creative Commons Attribution-ShareAlike 4.0 International "
     "License.", BY_SA_4),
    ("Creative Commons Namensnennung - Weitergabe unter gleichen Bedingungen 4.0 International",
     BY_SA_4),
    ("Namensnennung-Weitergabe unter gleichen Bedingungen 3.0 Deutschland",
     CC + "by-sa/3.0/de/"),
    ("Creative Commons Paternité", CC + "by/4.0/"),
    ("Attribution - Pas d'Utilisation Commerciale", CC + "by-nc/4.0/"),
    ("Licence Creative Commons Attribution - Partage dans les Mêmes Conditions 4.0 International",
     BY_SA_4),
    # LOM (Eurêka, Québec): rights/description
    ("Creative Commons Paternité-Pas d'Utilisation Commerciale-Partage des Conditions Initiales "
     "à l'Identique 2.5 Canada.", CC + "by-nc-sa/2.5/ca/"),
    ("Reconocimiento-CompartirIgual", BY_SA_4),
    ("Reconocimiento-NoComercial-SinObraDerivada 3.0 España",
     CC + "by-nc-nd/3.0/es/"),
    ("Atribución-NoComercial 4.0 Internacional", CC + "by-nc/4.0/"),
    ("署名-相同方式共享", BY_SA_4), ("知识共享署名-相同方式共享 4.0 国际许可协议", BY_SA_4),
    ("Creative Commons «Атрибуция-СохранениеУсловий» 4.0 Всемирная", BY_SA_4),
    ("المشاع الإبداعي نَسب المُصنَّف - الترخيص بالمثل 4.0 دولي", BY_SA_4),
    ("Public Domain", PDM), ("domaine public", PDM),
    ("gemeinfrei", PDM), ("Public Domain Mark", PDM),
    ("Public Domain Mark 1.0", PDM), ("公有领域", PDM),
    ("CC0", normalize.CC0), ("CC0 1.0 Universal", normalize.CC0), ("CC Zero", normalize.CC0),
    ("CC0 1.0 Universal Public Domain Dedication", normalize.CC0),
    # other open licences
    ("GPL-3.0", GNU + "gpl-3.0-standalone.html"),
    ("GPL-3.0-or-later", GNU + "gpl-3.0-standalone.html"),
    ("GPL-2.0+", GNU + "old-licenses/gpl-2.0-standalone.html"),
    ("GPLv3", GNU + "gpl-3.0-standalone.html"),
    ("GNU General Public License v3.0", GNU + "gpl-3.0-standalone.html"),
    ("GNU GPL version 2 or later", GNU + "old-licenses/gpl-2.0-standalone.html"),
    ("https://www.gnu.org/licenses/gpl-3.0.html", GNU + "gpl-3.0-standalone.html"),
    ("http://www.gnu.org/licenses/gpl-3.0.en.html", GNU + "gpl-3.0-standalone.html"),
    ("LGPL-2.1", GNU + "old-licenses/lgpl-2.1-standalone.html"),
    ("GNU Lesser General Public License v3", GNU + "lgpl-3.0-standalone.html"),
    ("AGPL-3.0-only", GNU + "agpl.txt"),
    ("GNU Free Documentation License 1.3", GNU + "fdl-1.3.txt"),
    ("GFDL-1.2", GNU + "old-licenses/fdl-1.2.txt"),
    ("http://www.gnu.org/copyleft/fdl.html", GNU + "fdl-1.3.txt"),
    ("MIT", "https://opensource.org/licenses/MIT"),
    ("The MIT License", "https://opensource.org/licenses/MIT"),
    ("https://opensource.org/license/mit/", "https://opensource.org/licenses/MIT"),
    ("http://www.opensource.org/licenses/mit-license.php", "https://opensource.org/licenses/MIT"),
    ("Apache-2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    ("Apache License, Version 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    ("http://www.apache.org/licenses/LICENSE-2.0.html",
     "https://www.apache.org/licenses/LICENSE-2.0"),
    ("BSD-3-Clause", "https://opensource.org/licenses/BSD-3-Clause"),
    ("MPL-2.0", "https://www.mozilla.org/MPL/2.0/"),
    ("EUPL-1.2", "https://opensource.org/licenses/EUPL-1.2"),
    ("ODbL", "https://opendatacommons.org/licenses/odbl/1-0/"),
    ("Licence Art Libre 1.3", "https://artlibre.org/"),
])
def test_canonical_license(value: str, expected: str) -> None:
    assert canonical_license(value) == expected


DLESE_RIGHTS = (  # LOM (DLESE ADN record): a rights text that mentions the public domain
    "Copyright© 1999-2000, Wheeling Jesuit University/Center for Educational Technologies™. All "
    "rights reserved. Copyright© 1997-2000, Wheeling Jesuit University/NASA Classroom of the "
    "Future™. All rights reserved. Permission to make digital or hard copies of part or all of "
    "this work for personal or classroom use is granted provided that copies are not made or "
    "distributed for profit or direct commercial advantage and that copies bear this notice and "
    "the full citation on the first page. [...] Where components are in the U.S. public domain "
    "this fact is stated. Caution is advised in copying and distributing U.S. public domain works "
    "in countries other than the U.S., where different laws may apply.")


@pytest.mark.parametrize("value", [
    "", "   ", "All rights reserved", "Alle Rechte vorbehalten", "Tous droits réservés",
    "Copyright 2004 Université X", "free for educational use", "© CCDMD 2011",  # LOM
    "Droits réservés à l'éditeur et aux auteurs",  # LOM
    "Utilisation pédagogique. Reproduction autorisée pour un usage en classe. Pour tout autre "
    "usage, reproduction d'extraits autorisée avec mention des sources.",  # LOM
    "Ces contenus d'enseignement, propriété du campus numérique IUT en ligne, constituent une "
    "œuvre protégée par les lois sur la propriété intellectuelle.",  # LOM
    DLESE_RIGHTS, "yes", "no", "Creative Commons", "CC", "Attribution", "by", "NC-SA",
    "Attribution required", "non-commercial use only", "CC BY 5.0", "CC BY 2.1",
    "CC BY-ND-SA 4.0", "https://creativecommons.org/licenses/by/9.9/",
    "https://creativecommons.org/licenses/foo/4.0/", "https://example.org/license",
    "see https://example.org/terms", "GPL", "GFDL", "ODbL 2.0", "MIT OR Apache-2.0",
    "Public domain in the US", "CC BY 3.0 XX", "LicenseRef-proprietary",
])
def test_unrecognised_licence_text_is_none(value: str) -> None:
    assert canonical_license(value) is None


#: The SPDX-listed URLs (shared/standards/skos/licenses/spdx-license-urls.txt) that
#: licenses.tsv canonicalises to.
SPDX_LISTED = frozenset("""
https://creativecommons.org/licenses/publicdomain/
https://www.gnu.org/licenses/old-licenses/gpl-1.0-standalone.html
https://www.gnu.org/licenses/old-licenses/gpl-2.0-standalone.html
https://www.gnu.org/licenses/gpl-3.0-standalone.html
https://www.gnu.org/licenses/old-licenses/lgpl-2.0-standalone.html
https://www.gnu.org/licenses/old-licenses/lgpl-2.1-standalone.html
https://www.gnu.org/licenses/lgpl-3.0-standalone.html
https://www.gnu.org/licenses/agpl.txt
https://www.gnu.org/licenses/old-licenses/fdl-1.1.txt
https://www.gnu.org/licenses/old-licenses/fdl-1.2.txt
https://www.gnu.org/licenses/fdl-1.3.txt
https://opensource.org/licenses/MIT
https://opensource.org/licenses/Apache-1.1
https://www.apache.org/licenses/LICENSE-2.0
https://opensource.org/licenses/BSD-2-Clause
https://opensource.org/licenses/BSD-3-Clause
https://opensource.org/licenses/MPL-1.0
https://opensource.org/licenses/MPL-1.1
https://www.mozilla.org/MPL/2.0/
https://opensource.org/licenses/EUPL-1.1
https://opensource.org/licenses/EUPL-1.2
https://opendatacommons.org/licenses/odbl/1-0/
https://opendatacommons.org/licenses/by/1.0/
https://opendatacommons.org/licenses/pddl/
https://unlicense.org/
http://artlibre.org/licence/lal/licence-art-libre-12/
https://artlibre.org/
""".split())
#: The brief's pattern, plus the IGO port (a real CC port with three letters: by-nc-nd/3.0/igo/
#: is itself on the SPDX list).
CANONICAL_CC = re.compile(r"^https://creativecommons\.org/"
                          r"(licenses/[a-z-]+/\d\.\d/([a-z]{2}/|igo/)?"
                          r"|publicdomain/(zero|mark)/1\.0/)$")


def _is_canonical(iri: str) -> bool:
    return bool(CANONICAL_CC.match(iri)) or iri in SPDX_LISTED


def _licence_table() -> list[list[str]]:
    table = (files("eduxchange.vocabularies") / "mappings" / "licenses.tsv").read_text("utf-8")
    rows = [line.split("\t") for line in table.splitlines() if line and not line.startswith("#")]
    assert rows[0] == ["kind", "value", "target"]
    return rows[1:]


def test_licence_table_targets_are_canonical_and_fixed_points() -> None:
    targets = {row[2] for row in _licence_table() if row[0] in ("spdx", "url", "name")}
    assert targets
    for iri in targets:
        assert _is_canonical(iri), iri
        assert canonical_license(iri) == iri


def _licence_scheme() -> rdflib.Graph:
    graph = rdflib.Graph()
    graph.parse(data=(files("eduxchange.vocabularies") / "licenses.ttl").read_text("utf-8"),
                format="turtle")
    return graph


def test_licence_scheme_describes_every_licence_in_seven_languages() -> None:
    graph = _licence_scheme()
    schemes = list(graph.subjects(RDF.type, SKOS.ConceptScheme))
    assert len(schemes) == 1
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    assert concepts == set(graph.objects(schemes[0], SKOS.hasTopConcept))
    for concept in concepts:
        iri = str(concept)
        assert _is_canonical(iri), iri
        assert canonical_license(iri) == iri  # concept IRIs are canonical licence IRIs
        assert (concept, SKOS.inScheme, schemes[0]) in graph
        labels = {label.language: str(label) for label in graph.objects(concept, SKOS.prefLabel)
                  if isinstance(label, rdflib.Literal)}
        assert set(labels) == {"ar", "zh", "en", "fr", "ru", "es", "de"}, iri
        for language, label in labels.items():  # every label is recognised as its licence
            assert canonical_license(label) == iri, (language, label)
        notations = {str(n) for n in graph.objects(concept, SKOS.notation)}
        assert notations or iri == normalize.PUBLIC_DOMAIN_MARK, iri
    # every licence with an spdx row is in the scheme
    spdx_targets = {row[2] for row in _licence_table() if row[0] == "spdx"}
    assert spdx_targets <= {str(c) for c in concepts}


# --- vCards -------------------------------------------------------------------------------------

# LOM (Eurêka, 4c990689afe953.52824410): CRLF, empty FN, N only or ORG only, escaped "\:" and
# "\,", a URL without scheme, a folded base64 LOGO (shortened here).
REPTIC = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nN:;;;;\r\nORG:Réseau des répondantes et répondants "
          "TIC (Réseau REPTIC)\r\nEMAIL;TYPE=INTERNET:http\\://www.reptic.qc.ca/contactez-nous.html"
          "\r\nADR;TYPE=WORK,POST:;;;;;;Canada\r\nURL:ww.reptic.qc.ca/contactez-nous.html\r\n"
          "END:VCARD\r\n")
RAYMOND = ("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:\r\nN:Raymond;Johanne\r\nORG:Collège Lionel-Groulx\r\n"
           "ADR;TYPE=WORK,POST:;;100\\, rue Duquet;Sainte-Thérèse;Québec;;Canada\r\n"
           "LOGO;ENCODING=b;TYPE=gif:R0lGODlhjACMAOf6AAAAAAEBAQICAgMDAwQEBAUFBQYGBgcHBw\r\n"
           " gICAkJCQoKCgsLCwwMDA0NDQ4ODg8PDxAQEBERERISEhMTExQUFBUVFRYWFhcXFxgYGBkZGRoaG\r\n"
           " hsbGxwcHB0dHR4eHh8fHyAgICEhISIiIiMjIyQkJCUlJSYmJicnJygoKCkpKSoqKisrKywsLC0t\r\n"
           "END:VCARD\r\n")
# LOM (Canal-U): LF, blank line inside the card, a URL as the only identifier.
LE_GRAND = ("BEGIN:VCARD\nVERSION:3.0\nCLASS:PUBLIC\nREV:2013-01-13 23:48:50\n"
            "FN:Jean-Louis LE GRAND\nN:LE GRAND;Jean-Louis;;;\n\n"
            "URL;TYPE=work:http://www.canal-u.tv/auteurs/le_grand_jean_louis"
            "\nROLE:author\nNOTE:                                Statut           IFEF Paris VII"
            "                        \nTZ:+0100\nEND:VCARD\n")
NANTES = ("BEGIN:VCARD\nVERSION:3.0\nCLASS:PUBLIC\nREV:2013-01-13 23:48:50\n"
          "FN:Université de Nantes\nN:Université de Nantes;;;;\n\n"
          "URL;TYPE=work:http://www.canal-u.tv/auteurs/universite_de_nantes"
          "\nROLE:publisher\nTZ:+0100\nEND:VCARD\n")
# LOM (ENSEIGNEMENT.be, respel-5214): trailing spaces, a space after "FN:", empty properties.
COMMISSION = ("BEGIN:VCARD \nVERSION:3.0 \nFN: Commission des Outils d'Evaluation pour les "
              "Humanités générales et technologiques\nORG:\nEMAIL;TYPE=INTERNET:\n"
              "TEL;TYPE=WORK,VOICE:\n"
              "TEL;TYPE=WORK,FAX:\nADR;TYPE=WORK,POST:;;\nURL:\nEND:VCARD")
ROLAND = ("BEGIN:VCARD \nVERSION:3.0\nFN:Pierre ROLAND\nORG:\nEMAIL;TYPE=INTERNET:\n"
          "TEL;TYPE=WORK,VOICE:\nTEL;TYPE=WORK,FAX:\nADR;TYPE=WORK,POST:;;\nURL:\nEND:VCARD")
# LOM (CCDMD, ressource-ressfranc30): a " " line after every line, a folded ADR, a PHOTO.
CCDMD = ("BEGIN:VCARD\r\n \r\nVERSION:3.0\r\n \r\nFN:\r\n \r\nN:;;;;\r\n \r\nORG:CCDMD (Centre "
         "collégial de développement de matériel didactique)\r\n \r\nEMAIL;TYPE=INTERNET:"
         "info@ccdmd.qc.ca\r\n \r\nTEL;TYPE=WORK,VOICE:+1-514-873-2200\r\n \r\nTEL;TYPE=WORK,FAX:"
         "+1-514-864-4908\r\n \r\nADR;TYPE=WORK,POST:;Bureau 416; 6220\\, rue Sherbrooke Est; "
         "Montréal;Québe\r\n c;H1N 1C1;Canada\r\n \r\n"
         "PHOTO;ENCODING=b;TYPE=gif:R0lGODlhoABCAMQAAP7+/lNUa0JEXCQlLiUmMMrLzUxOZpCQl\r\n"
         " bOztnJyeSIjLCIjLUhKYj5AWCgpMkBASU5QZyYnMUpMZEZHXyAhK56LMVtcY1lacTIzPOTk5VVW\r\n \r\n"
         "URL:http\\://www.ccdmd.qc.ca/\r\n \r\nEND:VCARD\r\n \r\n")
# LOM (UNIT): unescaped ";" in FN, repeated given name in N, acronym publishers.
TOMA = ("BEGIN:VCARD\nVERSION:3.0\nN:Toma;Antoine;Antoine;;;\nFN:Antoine Toma;Antoine\n"
        "EMAIL;TYPE=INTERNET:toma@univ-tlse2.fr\nORG:Institut Universitaire de Technologie de "
        "Toulouse A\nEND:VCARD")
UNIT = "BEGIN:VCARD\nVERSION:3.0\nN:UNIT;;;;\nFN:UNIT\nEMAIL;TYPE=INTERNET:\nORG:\nEND:VCARD"
IUT = ("BEGIN:VCARD\nVERSION:3.0\nN:IUT en ligne;;;;\nFN:IUT en ligne\nEMAIL;TYPE=INTERNET:\nORG:\n"
       "END:VCARD")


def _org(name: str, *, id: str | None = None, email: str | None = None,  # noqa: A002
         telephone: str | None = None, address: str | None = None) -> Agent:
    return Agent(type="Organization", name=name, id=id, email=email, telephone=telephone,
                 address=address)


@pytest.mark.parametrize(("card", "expected"), [
    (REPTIC, _org("Réseau des répondantes et répondants TIC (Réseau REPTIC)", address="Canada")),
    (RAYMOND, Agent(type="Person", name="Johanne Raymond",
                    affiliation=_org("Collège Lionel-Groulx"),
                    address="100, rue Duquet, Sainte-Thérèse, Québec, Canada")),
    (LE_GRAND, Agent(type="Person", name="Jean-Louis LE GRAND",
                     id="http://www.canal-u.tv/auteurs/le_grand_jean_louis")),
    (NANTES, _org("Université de Nantes", id="http://www.canal-u.tv/auteurs/universite_de_nantes")),
    (COMMISSION, _org("Commission des Outils d'Evaluation pour les Humanités générales et "
                      "technologiques")),
    (ROLAND, Agent(type="Person", name="Pierre ROLAND")),
    (CCDMD, _org("CCDMD (Centre collégial de développement de matériel didactique)",
                 id="http://www.ccdmd.qc.ca/", email="info@ccdmd.qc.ca",
                 telephone="+1-514-873-2200",
                 address="Bureau 416, 6220, rue Sherbrooke Est, Montréal, Québec, H1N 1C1, "
                         "Canada")),
    (TOMA, Agent(type="Person", name="Antoine Toma", email="toma@univ-tlse2.fr",
                 affiliation=_org("Institut Universitaire de Technologie de Toulouse A"))),
    (UNIT, _org("UNIT")),
    (IUT, _org("IUT en ligne")),
    # vCard 2.1: QUOTED-PRINTABLE with CHARSET and a soft line break; N without FN
    ("BEGIN:VCARD\r\nVERSION:2.1\r\n"
     "N;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=FCrgen\r\n"
     "EMAIL;PREF;INTERNET:jm@example.org\r\nEND:VCARD",
     Agent(type="Person", name="Jürgen Müller", email="jm@example.org")),
    ("BEGIN:VCARD\nVERSION:2.1\nFN;CHARSET=UTF-8;QUOTED-PRINTABLE:Fran=C3=A7ois =\nD=C3=A9sir=C3=A9"
     "\nEND:VCARD", Agent(type="Person", name="François Désiré")),
    # lower case, no END, escapes, ORCID in X-ORCID
    ("begin:vcard\nversion:3.0\nfn:Smith\\, Jane\\nPhD\nx-orcid:0000-0002-1825-0097",
     Agent(type="Person", name="Smith, Jane PhD", id="https://orcid.org/0000-0002-1825-0097")),
    # the whole card indented like the XML around it, inside CDATA, with folding
    ("<![CDATA[\n      BEGIN:VCARD\n      VERSION:3.0\n      FN:Li\n        Wei\n      UID:"
     "https://orcid.org/0000-0002-1825-0097\n      ORG:Open University of China\n"
     "      END:VCARD\n]]>",
     Agent(type="Person", name="Li Wei", id="https://orcid.org/0000-0002-1825-0097",
           affiliation=_org("Open University of China"))),
    ("  \tBEGIN:VCARD\nVERSION:4.0\nKIND:org\nFN:Open University of China\n"
     "URL:https://ror.org/02mhbdp94\nTEL;VALUE=uri;TYPE=\"voice,work\":tel:+86-10-1234-5678\n"
     "END:VCARD", _org("Open University of China", id="https://ror.org/02mhbdp94",
                       telephone="+86-10-1234-5678")),
    ("BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nX-ISNI:0000 0001 2103 2683\nEND:VCARD",
     Agent(type="Person", name="Jane Doe", id="https://isni.org/isni/0000000121032683")),
    ("BEGIN:VCARD\nVERSION:4.0\nKIND:individual\nFN:Max Institut\nEND:VCARD",
     Agent(type="Person", name="Max Institut")),
    ("BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\nX-ORCID:0000-0002-1825-0098\nEND:VCARD",
     Agent(type="Person", name="Jane Doe")),  # bad ORCID checksum: no id
])
def test_parse_vcard(card: str, expected: Agent) -> None:
    assert parse_vcard(card) == expected


@pytest.mark.parametrize("card", ["", "   ", "garbage", "BEGIN:VCARD\nEND:VCARD",
                                  "BEGIN:VCARD\nVERSION:3.0\nFN:\nN:;;;;\nORG:\nEND:VCARD",
                                  "BEGIN:VCARD\nNOTE:nobody\nEND:VCARD"])
def test_parse_vcard_without_a_name_is_none(card: str) -> None:
    assert parse_vcard(card) is None


def test_agent_to_dict_gives_contacts_only_when_asked() -> None:
    agent = parse_vcard(CCDMD)
    assert agent is not None
    assert agent.to_dict() == {
        "type": "Organization", "id": "http://www.ccdmd.qc.ca/",
        "name": "CCDMD (Centre collégial de développement de matériel didactique)"}
    assert agent.to_dict(include_contacts=True)["email"] == "info@ccdmd.qc.ca"
    person = parse_vcard(RAYMOND)
    assert person is not None
    assert person.to_dict() == {"type": "Person", "name": "Johanne Raymond", "affiliation": {
        "type": "Organization", "name": "Collège Lionel-Groulx"}}


@pytest.mark.parametrize(("value", "expected"), [
    ("Müller, Jürgen", Agent(type="Person", name="Jürgen Müller")),
    ("Smith, J.", Agent(type="Person", name="J. Smith")),
    ("Müller, Jürgen (Hrsg.)", Agent(type="Person", name="Jürgen Müller")),
    ("  Jean-Louis   Le Grand ", Agent(type="Person", name="Jean-Louis Le Grand")),
    ("Li Wei (https://orcid.org/0000-0002-1825-0097)",
     Agent(type="Person", name="Li Wei", id="https://orcid.org/0000-0002-1825-0097")),
    ("Doe, John, Jr.", Agent(type="Person", name="Doe, John, Jr.")),
    ("Smith, Jr.", Agent(type="Person", name="Smith, Jr.")),
    ("王小明", Agent(type="Person", name="王小明")),
    ("Université de Montréal", _org("Université de Montréal")),
    ("Open University of China", _org("Open University of China")),
    ("Bundesministerium für Bildung und Forschung",
     _org("Bundesministerium für Bildung und Forschung")),
    ("Landesinstitut für Schulentwicklung", _org("Landesinstitut für Schulentwicklung")),
    ("Wikimedia Deutschland e. V.", _org("Wikimedia Deutschland e. V.")),
    ("ACME GmbH", _org("ACME GmbH")), ("Example Inc.", _org("Example Inc.")),
    ("Ministère de l'Éducation", _org("Ministère de l'Éducation")),
    ("UNESCO", _org("UNESCO")), ("北京大学", _org("北京大学")), ("جامعة القاهرة", _org("جامعة القاهرة")),
    ("Московский государственный университет", _org("Московский государственный университет")),
    ("Hans Schuler", Agent(type="Person", name="Hans Schuler")),
])
def test_parse_name(value: str, expected: Agent) -> None:
    assert parse_name(value) == expected


def test_parse_name_refuses_blank_text() -> None:
    with pytest.raises(ValueError):
        parse_name("  ")


# --- text ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("Plain title", "Plain title"), ("  spaced \n\t out  ", "spaced out"), ("", ""),
    ("<p>One</p><p>Two</p>", "One Two"), ("a<br>b<br/>c", "a b c"),
    ("<b>bo</b>ld <i>it</i>", "bold it"), ('<a href="x.html">link</a> text', "link text"),
    ("Caf&eacute; &amp; cr&#232;me&nbsp;br&#xFB;l&#xe9;e", "Café & crème brûlée"),
    ("&lt;p&gt;double &amp;amp; escaped&lt;/p&gt;", "double & escaped"),
    ("<script>alert(1)</script>safe<style>p{}</style>", "safe"), ("x <!-- note --> y", "x y"),
    ("a < b and c > d", "a < b and c > d"), ("3<5 and 6>4", "3<5 and 6>4"),
    ("a <foo> b", "a <foo> b"),
    ("AT&T and R&D", "AT&T and R&D"), ("&para;graph &parent", "¶graph &parent"),
    ("01 \x96 Illettrisme et scolarité", "01 – Illettrisme et scolarité"),  # LOM (Canal-U): cp1252
    ("Copyright \x96 TOM POUCE - Nantes", "Copyright – TOM POUCE - Nantes"),  # LOM (Canal-U)
    ("zero\u200bwidth\ufeff", "zerowidth"), ("bell\x07", "bell"),
    ("Jusqu\u2019\u00e0 12 activit\u00e9s\n1- Compr\u00e9hension",
     "Jusqu’à 12 activités 1- Compréhension"),
])
def test_clean_text(value: str, expected: str) -> None:
    assert clean_text(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("fractions; arithmetic", ["fractions", "arithmetic"]),
    ("a; b, c", ["a", "b, c"]), ("a, b, c", ["a", "b", "c"]),
    ("Paris, France; Geography", ["Paris, France", "Geography"]),
    ("math | Math | algebra", ["math", "algebra"]), ("分数、算术", ["分数", "算术"]),
    ("line one\nline two", ["line one", "line two"]), (" ; , ", []), ("", []),
    ("<b>html</b>; &amp; entities", ["html", "& entities"]), ("col·legi", ["col·legi"]),
])
def test_split_keywords(value: str, expected: list[str]) -> None:
    assert split_keywords(value) == expected


# --- dates and durations ------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    ("2004", "2004"), ("2004-05", "2004-05"), ("2004-05-17", "2004-05-17"),
    ("2004-5-7", "2004-05-07"), ("17/05/2004", "2004-05-17"), ("17.05.2004", "2004-05-17"),
    ("7-5-2004", "2004-05-07"), ("2004.05.17", "2004-05-17"), ("2004/05/17", "2004-05-17"),
    ("05/2004", "2004-05"), ("20040517", "2004-05-17"),
    ("May 2004", "2004-05"), ("17 mai 2004", "2004-05-17"), ("17. März 2004", "2004-03-17"),
    ("May 17, 2004", "2004-05-17"), ("1er mai 2004", "2004-05-01"), ("mars 2011", "2011-03"),
    ("17 de mayo de 2004", "2004-05-17"), ("Monday, 17 May 2004", "2004-05-17"),
    ("17 мая 2004", "2004-05-17"), ("2004年5月17日", "2004-05-17"), ("2004年5月", "2004-05"),
    ("2004-05-17 10:00", "2004-05-17"), ("2004-05-17T10:00:00", "2004-05-17"),
    ("2004-05-17T10:00:00Z", "2004-05-17T10:00:00Z"), ("2004-05-17T10:00Z", "2004-05-17T10:00:00Z"),
    ("2004-05-17T10:00:00.123Z", "2004-05-17T10:00:00Z"),  # DSpace
    ("2004-05-17T10:00:00+02:00", "2004-05-17T10:00:00+02:00"),
    ("2004-05-17T10:00:00+0530", "2004-05-17T10:00:00+05:30"),
    ("2004-05-17T10:00:00+00:00", "2004-05-17T10:00:00Z"),
    ("2004-05-17 10:00 Z", "2004-05-17T10:00:00Z"),
    ("2010-09-09T08:16:14.0-05:00", "2010-09-09T08:16:14-05:00"),  # LOM (Eurêka) dateTime
    ("1990-07-03", "1990-07-03"), (" 2011-03-16 ", "2011-03-16"),  # LOM dateTime
    ("2004-05-17Z", "2004-05-17"),
])
def test_normalize_date(value: str, expected: str) -> None:
    assert normalize_date(value) == expected


@pytest.mark.parametrize("value", [
    "", "garbage", "2004-13-01", "2004-02-30", "2004-05-17T24:00:00Z", "2004-05-17T10:00+15:00",
    "0000", "9999-12-31", "05/17/2004", "May", "17 mai", "c. 2004", "2004 2005", "Mai 68",
    "2004-05-17T10:61Z",
])
def test_normalize_date_garbage_is_none(value: str) -> None:
    assert normalize_date(value) is None


@pytest.mark.parametrize(("value", "expected"), [
    ("PT1H30M", "PT1H30M"), ("P0Y0M0DT1H30M0S", "PT1H30M"), ("PT90M", "PT1H30M"),
    ("pt1h30m", "PT1H30M"), ("PT0H14M54S", "PT14M54S"),  # LOM (Canal-U)
    ("PT14M54.6S", "PT14M55S"), ("PT1.5H", "PT1H30M"), ("P2W", "P14D"), ("P1.5D", "P1DT12H"),
    ("P1DT36H", "P1DT36H"), ("P1Y2M", "P1Y2M"), ("PT3600S", "PT1H"),
    ("90 min", "PT1H30M"), ("90 minutes", "PT1H30M"), ("1h30", "PT1H30M"),
    ("1 h 30 min", "PT1H30M"),
    ("1:30:00", "PT1H30M"), ("1:30", "PT1H30M"), ("0:45:30", "PT45M30S"), ("2 hours", "PT2H"),
    ("45 Minuten", "PT45M"), ("ca. 45 Minuten", "PT45M"), ("1,5 Stunden", "PT1H30M"),
    ("2 heures", "PT2H"), ("environ 2 heures", "PT2H"), ("1 hora y 30 minutos", "PT1H30M"),
    ("3 Tage", "P3D"), ("1 semaine", "P7D"), ("2 months", "P2M"), ("30 sec", "PT30S"),
    ("2 min 30", "PT2M30S"), ("1小时30分钟", "PT1H30M"), ("45 минут", "PT45M"), ("ساعة 1", None),
])
def test_normalize_duration(value: str, expected: str | None) -> None:
    assert normalize_duration(value) == expected


@pytest.mark.parametrize("value", [
    "", "garbage", "P", "PT", "90", "PT0H0M0S", "P0D", "1h 2h", "min 90", "PT1H30", "P1.5Y",
    "about an hour", "1:75",
])
def test_normalize_duration_garbage_is_none(value: str) -> None:
    assert normalize_duration(value) is None


# --- properties ---------------------------------------------------------------------------------

NORMALIZERS = (normalize_language, canonical_license, normalize_date, normalize_duration)

#: Text shaped like the values the functions meet, so that properties reach past the first check.
shaped = st.one_of(
    st.text(),
    st.from_regex(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,4}){0,2}", fullmatch=True),
    st.from_regex(r"(https?://)?(www\.)?creativecommons\.org/(licenses|publicdomain)/[a-z-]{2,9}"
                  r"(/\d\.\d)?(/[a-z]{2,3})?/?(deed\.[a-z]{2}|legalcode)?", fullmatch=True),
    st.from_regex(r"(CC|Creative Commons)?[ -](BY|NC|ND|SA|by|nc|nd|sa)"
                  r"([ -](BY|NC|ND|SA|by|nc|nd|sa)){0,3}( [1-4]\.[05])?"
                  r"( (DE|de|igo|International))?",
                  fullmatch=True),
    st.from_regex(r"\d{1,4}[-./]\d{1,2}([-./]\d{1,4})?"
                  r"([T ]\d{1,2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:?\d{2})?)?", fullmatch=True),
    st.from_regex(r"P(\d{1,3}Y)?(\d{1,3}M)?(\d{1,3}D)?(T(\d{1,4}H)?(\d{1,4}M)?(\d{1,4}(\.\d)?S)?)?",
                  fullmatch=True),
    st.from_regex(r"\d{1,3}([.,]\d)? ?(h|min|Minuten|hours|heures|Tage|s)( \d{1,2})?",
                  fullmatch=True),
)


@settings(max_examples=50, deadline=None)  # regex-built examples are slow to draw
@given(shaped)
def test_normalizers_never_raise_and_their_outputs_are_fixed_points(value: str) -> None:
    for normalizer in NORMALIZERS:
        out = normalizer(value)
        if out is not None:
            assert normalizer(out) == out, (normalizer.__name__, value, out)
    licence = canonical_license(value)
    assert licence is None or _is_canonical(licence), (value, licence)


@PROPERTIES
@given(st.text())
def test_clean_text_is_idempotent_and_never_raises(value: str) -> None:
    once = clean_text(value)
    assert clean_text(once) == once
    assert once == once.strip() and "  " not in once


@PROPERTIES
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("<>&;#/pbr ")))
def test_clean_text_handles_markup_like_noise(value: str) -> None:
    once = clean_text(value)
    assert clean_text(once) == once


@PROPERTIES
@given(st.text())
def test_split_keywords_is_stable(value: str) -> None:
    keywords = split_keywords(value)
    assert all(k and k == clean_text(k) for k in keywords)
    # The trailing separator says the list is one of semicolons: alone, "0,0" would be read as
    # the comma-separated keywords it may well be.
    assert split_keywords("; ".join(keywords) + ";") == keywords


@PROPERTIES
@given(st.dates(), st.sampled_from(["%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y", "%Y.%m.%d", "%B %d, %Y",
                                    "%d %B %Y"]))
def test_dates_in_every_accepted_form_give_the_iso_date(day: object, form: str) -> None:
    from datetime import date
    assert isinstance(day, date)
    expected = day.isoformat() if 1000 <= day.year <= 2999 else None
    assert normalize_date(day.strftime(form)) == expected


@PROPERTIES
@given(st.integers(0, 99), st.integers(0, 500), st.integers(0, 5000))
def test_durations_carry_seconds_and_minutes(hours: int, minutes: int, seconds: int) -> None:
    total = hours * 3600 + minutes * 60 + seconds
    h, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    expected = ("PT" + "".join(f"{n}{u}" for n, u in ((h, "H"), (m, "M"), (s, "S")) if n)
                if total else None)
    assert normalize_duration(f"PT{hours}H{minutes}M{seconds}S") == expected


vcard_lines = st.lists(st.one_of(
    st.text(max_size=30),
    st.builds("{}{}:{}".format,
              st.sampled_from(["FN", "N", "ORG", "EMAIL", "TEL", "ADR", "URL", "UID", "X-ORCID",
                               "KIND", "fn", "n", "PHOTO", " FN"]),
              st.sampled_from(["", ";TYPE=WORK", ";ENCODING=QUOTED-PRINTABLE", ";CHARSET=UTF-8",
                               ";ENCODING=b", ';TYPE="a:b"']),
              st.text(max_size=30)),
), max_size=8)


@PROPERTIES
@given(vcard_lines, st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_parse_vcard_never_raises(lines: list[str], newline: str, wrapped: bool) -> None:
    card = newline.join(["BEGIN:VCARD", *lines, "END:VCARD"] if wrapped else lines)
    agent = parse_vcard(card)
    if agent is not None:
        assert agent.name and agent.name == clean_text(agent.name)
        assert agent.type in ("Person", "Organization", None)  # None: no evidence of either
        agent.to_dict(include_contacts=True)


@PROPERTIES
@given(st.text())
def test_parse_name_never_raises_on_text_with_content(value: str) -> None:
    if clean_text(value):
        try:
            agent = parse_name(value)
        except ValueError as error:  # "s.n." (sine nomine) names nobody
            assert "sine nomine" in str(error), value
            return
        assert agent.name and agent.type in ("Person", "Organization", None)


@PROPERTIES
@given(st.lists(st.text(max_size=12), max_size=6))
def test_normalize_languages_gives_unique_valid_tags(values: list[str]) -> None:
    tags = normalize_languages(values)
    assert len(tags) == len(set(tags))
    assert all(normalize_language(tag) == tag for tag in tags)
    assert all(language_key(tag) == tag for tag in tags)


# --- documentation ------------------------------------------------------------------------------

@pytest.mark.parametrize("module", [normalize, dates, languages, licenses, text, vcard],
                         ids=lambda m: m.__name__)
def test_docstring_examples(module: object) -> None:
    result = doctest.testmod(module,  # type: ignore[arg-type]
                             optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


@pytest.mark.parametrize("name", ["Repositorio abierto", "Open Archives Portal",
                                  "Plateforme nationale de ressources"])
def test_repositories_and_platforms_are_organizations(name: str) -> None:
    assert parse_name(name).type == "Organization"
