"""Quality reports for members: what the catalogue knows about the metadata a member sends.

DPLA sends its providers a summary and a per-field warnings file; this is ours. For one member,
:func:`member_report` reads the store (never the network, never a write) and gives

* records attempted, normalized and quarantined, the reasons in plain words ("no title
  (dc:title)", not "$: 'name' is a required property"), grouped, with counts and examples;
* how complete every field of the common record is (docs/record.md);
* the distributions of languages, licences (open or not), resource types, levels, audiences
  and subjects;
* every source value no vocabulary maps, with a ready-to-fill mapping table
  (:func:`mapping_tsv`, the ``extra_mappings`` format of docs/normalization.md);
* how the key figures changed across the member's last runs (kept per run with
  :func:`save_snapshot`).

:func:`render_html` makes a self-contained page (charts as inline SVG, no script, no external
resource), :func:`write_warnings_csv` the per-field warnings, :meth:`MemberReport.to_dict`
the JSON. Every interface string goes through :data:`MESSAGES`, so the page can be translated;
the plain-word reasons are data too (:data:`ELEMENTS`, :data:`FIELD_NOUNS`, :data:`REASONS`).
"""

from __future__ import annotations

import csv
import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cache
from importlib.resources import files
from types import MappingProxyType
from typing import Any, Final, TextIO

from ..core.config import MemberConfig
from ..core.record import Description
from ..store.base import CatalogStore, QuarantineEntry, StoreReader

__all__ = [
    "ELEMENTS",
    "FIELD_LABELS",
    "FIELD_NOUNS",
    "MESSAGES",
    "REASONS",
    "RECOMMENDED",
    "Count",
    "FieldCompleteness",
    "MemberReport",
    "ReasonGroup",
    "RunPoint",
    "UnmappedValue",
    "iter_warnings",
    "mapping_tsv",
    "member_report",
    "plain_reasons",
    "render_html",
    "save_snapshot",
    "write_warnings_csv",
]

# ---------------------------------------------------------------------- data tables

#: Where each common-record field comes from in each source format (the crosswalks' rules,
#: docs/record.md): a reason names the element the member has to fix.
_LOM: Final = {
    "name": "general/title", "description": "general/description", "keywords": "general/keyword",
    "inLanguage": "general/language", "identifier": "general/identifier",
    "url": "technical/location", "encodingFormat": "technical/format",
    "duration": "technical/duration", "license": "rights/copyrightAndOtherRestrictions",
    "copyrightNotice": "rights/description", "isAccessibleForFree": "rights/cost",
    "learningResourceType": "educational/learningResourceType",
    "educationalLevel": "educational/context", "audience": "educational/intendedEndUserRole",
    "typicalAgeRange": "educational/typicalAgeRange", "about": "classification/taxonPath",
    "creator": "lifeCycle/contribute (author)", "publisher": "lifeCycle/contribute (publisher)",
    "contributor": "lifeCycle/contribute", "dateCreated": "lifeCycle/contribute/date",
    "datePublished": "lifeCycle/contribute (publisher)/date",
    "dateModified": "metaMetadata/contribute/date", "image": "relation (thumbnail)",
}
_DC: Final = {
    "name": "dc:title", "description": "dc:description", "keywords": "dc:subject",
    "about": "dc:subject", "inLanguage": "dc:language", "identifier": "dc:identifier",
    "url": "dc:identifier", "license": "dc:rights", "copyrightNotice": "dc:rights",
    "learningResourceType": "dc:type", "encodingFormat": "dc:format", "creator": "dc:creator",
    "contributor": "dc:contributor", "publisher": "dc:publisher", "dateCreated": "dc:date",
    "datePublished": "dc:date", "educationalLevel": "dcterms:educationLevel",
    "audience": "dcterms:audience", "dateModified": "dcterms:modified",
}
_DATACITE: Final = {
    "name": "titles/title", "description": "descriptions/description",
    "keywords": "subjects/subject", "about": "subjects/subject", "inLanguage": "language",
    "identifier": "identifier", "url": "identifier", "license": "rightsList/rights",
    "learningResourceType": "resourceType", "creator": "creators/creator",
    "contributor": "contributors/contributor", "publisher": "publisher",
    "dateCreated": "dates/date", "datePublished": "publicationYear",
    "encodingFormat": "formats/format",
}
ELEMENTS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "lom": MappingProxyType(_LOM), "imsmd": MappingProxyType(_LOM),
    "obaa": MappingProxyType(_LOM), "oai_dc": MappingProxyType(_DC),
    "qdc": MappingProxyType(_DC), "datacite": MappingProxyType(_DATACITE),
    # LRMI is schema.org: the record's own property names are the source's.
    "lrmi": MappingProxyType({}),
})

#: Each field of the common record in plain words (for "no title", "the licence is not valid").
FIELD_NOUNS: Final[Mapping[str, str]] = MappingProxyType({
    "type": "type", "url": "link to the resource", "identifier": "identifier", "name": "title",
    "description": "description", "keywords": "keywords", "inLanguage": "language",
    "license": "licence", "copyrightNotice": "copyright notice",
    "learningResourceType": "resource type", "educationalLevel": "educational level",
    "audience": "audience", "about": "subject", "creator": "author", "contributor": "contributor",
    "publisher": "publisher", "dateCreated": "creation date", "datePublished": "publication date",
    "dateModified": "modification date", "duration": "duration", "encodingFormat": "file format",
    "isAccessibleForFree": "cost", "image": "thumbnail", "typicalAgeRange": "age range",
    "sameAs": "other identifiers", "mainEntityOfPage": "provenance", "id": "catalogue IRI",
})

#: :data:`FIELD_NOUNS` in the other interface languages, for the completeness table and chart
#: of the HTML page only (the JSON's ``label`` and the CSV stay English); a field missing here
#: falls back to its English noun.
FIELD_LABELS: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "fr": MappingProxyType({
        "type": "type", "url": "lien vers la ressource", "identifier": "identifiant",
        "name": "titre", "description": "description", "keywords": "mots-clés",
        "inLanguage": "langue", "license": "licence", "copyrightNotice": "mention de droits",
        "learningResourceType": "type de ressource", "educationalLevel": "niveau d’études",
        "audience": "public", "about": "discipline", "creator": "auteur",
        "contributor": "contributeur", "publisher": "éditeur", "dateCreated": "date de création",
        "datePublished": "date de publication", "dateModified": "date de modification",
        "duration": "durée", "encodingFormat": "format de fichier", "isAccessibleForFree": "coût",
        "image": "vignette", "typicalAgeRange": "tranche d’âge",
        "sameAs": "autres identifiants", "mainEntityOfPage": "provenance",
        "id": "IRI du catalogue"}),
    "es": MappingProxyType({
        "type": "tipo", "url": "enlace al recurso", "identifier": "identificador",
        "name": "título", "description": "descripción", "keywords": "palabras clave",
        "inLanguage": "idioma", "license": "licencia", "copyrightNotice": "aviso de derechos",
        "learningResourceType": "tipo de recurso", "educationalLevel": "nivel educativo",
        "audience": "destinatarios", "about": "materia", "creator": "autor",
        "contributor": "colaborador", "publisher": "editor", "dateCreated": "fecha de creación",
        "datePublished": "fecha de publicación", "dateModified": "fecha de modificación",
        "duration": "duración", "encodingFormat": "formato de archivo",
        "isAccessibleForFree": "coste", "image": "miniatura", "typicalAgeRange": "rango de edad",
        "sameAs": "otros identificadores", "mainEntityOfPage": "procedencia",
        "id": "IRI del catálogo"}),
    "ru": MappingProxyType({
        "type": "тип", "url": "ссылка на ресурс", "identifier": "идентификатор",
        "name": "название", "description": "описание", "keywords": "ключевые слова",
        "inLanguage": "язык", "license": "лицензия",
        "copyrightNotice": "уведомление об авторском праве",
        "learningResourceType": "тип ресурса", "educationalLevel": "уровень образования",
        "audience": "аудитория", "about": "предмет", "creator": "автор",
        "contributor": "соавтор", "publisher": "издатель", "dateCreated": "дата создания",
        "datePublished": "дата публикации", "dateModified": "дата изменения",
        "duration": "продолжительность", "encodingFormat": "формат файла",
        "isAccessibleForFree": "стоимость", "image": "миниатюра",
        "typicalAgeRange": "возрастной диапазон", "sameAs": "другие идентификаторы",
        "mainEntityOfPage": "происхождение", "id": "IRI в каталоге"}),
    "zh": MappingProxyType({
        "type": "类型", "url": "资源链接", "identifier": "标识符", "name": "标题",
        "description": "描述", "keywords": "关键词", "inLanguage": "语言", "license": "许可协议",
        "copyrightNotice": "版权声明", "learningResourceType": "资源类型",
        "educationalLevel": "教育层次", "audience": "对象", "about": "学科", "creator": "作者",
        "contributor": "贡献者", "publisher": "出版者", "dateCreated": "创建日期",
        "datePublished": "发布日期", "dateModified": "修改日期", "duration": "时长",
        "encodingFormat": "文件格式", "isAccessibleForFree": "费用", "image": "缩略图",
        "typicalAgeRange": "年龄范围", "sameAs": "其他标识符", "mainEntityOfPage": "来源",
        "id": "目录 IRI"}),
    "ar": MappingProxyType({
        "type": "النوع", "url": "رابط المورد", "identifier": "المعرّف", "name": "العنوان",
        "description": "الوصف", "keywords": "الكلمات المفتاحية", "inLanguage": "اللغة",
        "license": "الترخيص", "copyrightNotice": "إشعار حقوق النشر",
        "learningResourceType": "نوع المورد", "educationalLevel": "المستوى التعليمي",
        "audience": "الجمهور", "about": "المادة", "creator": "المؤلف", "contributor": "المساهم",
        "publisher": "الناشر", "dateCreated": "تاريخ الإنشاء", "datePublished": "تاريخ النشر",
        "dateModified": "تاريخ التعديل", "duration": "المدة", "encodingFormat": "صيغة الملف",
        "isAccessibleForFree": "التكلفة", "image": "الصورة المصغّرة",
        "typicalAgeRange": "الفئة العمرية", "sameAs": "معرّفات أخرى",
        "mainEntityOfPage": "المصدر", "id": "IRI في الفهرس"}),
    "de": MappingProxyType({
        "type": "Typ", "url": "Link zur Ressource", "identifier": "Kennung", "name": "Titel",
        "description": "Beschreibung", "keywords": "Schlagwörter", "inLanguage": "Sprache",
        "license": "Lizenz", "copyrightNotice": "Urheberrechtsvermerk",
        "learningResourceType": "Ressourcentyp", "educationalLevel": "Bildungsstufe",
        "audience": "Zielgruppe", "about": "Fach", "creator": "Autor/in",
        "contributor": "Mitwirkende", "publisher": "Verlag", "dateCreated": "Erstellungsdatum",
        "datePublished": "Veröffentlichungsdatum", "dateModified": "Änderungsdatum",
        "duration": "Dauer", "encodingFormat": "Dateiformat", "isAccessibleForFree": "Kosten",
        "image": "Vorschaubild", "typicalAgeRange": "Altersgruppe",
        "sameAs": "weitere Kennungen", "mainEntityOfPage": "Herkunft", "id": "Katalog-IRI"}),
})

#: The fields whose absence is a warning of the per-field CSV (DPLA's "recommended" fields;
#: the catalogue's search facets and the licence a reuser needs).
RECOMMENDED: Final[tuple[str, ...]] = (
    "url", "description", "inLanguage", "license", "learningResourceType", "educationalLevel",
    "about", "keywords",
)

#: Validation rules (the JSON Schema keyword broken) in plain words; ``{noun}`` is the field,
#: ``{element}`` where it comes from.
_RULES: Final[Mapping[str, str]] = MappingProxyType({
    "required": "no {noun}{element}",
    "minItems": "no {noun}{element}",
    "minProperties": "no {noun}{element}",
    "minLength": "an empty {noun}{element}",
    "pattern": "a malformed {noun}{element}",
    "format": "a malformed {noun}{element}",
    "propertyNames": "a {noun} in an unknown language{element}",
    "type": "a {noun} of the wrong kind{element}",
    "maxItems": "too many values of {noun}{element}",
    "maxLength": "a {noun} that is too long{element}",
})

#: Other quarantine reasons (crosswalk, harvest, size) in plain words: a regular expression on
#: the stored reason, and the sentence (``{0}``, ``{1}`` are its groups).
REASONS: Final[tuple[tuple[str, str], ...]] = (
    (r"^no crosswalk for metadata in namespace '([^']*)' \(root element ([^)]*)\)",
     "metadata in a format eduxchange cannot read (root element <{1}>, namespace {0})"),
    (r"^metadata is not well-formed XML", "the metadata is not well-formed XML"),
    (r"^metadata is neither XML nor valid JSON", "the metadata is neither XML nor JSON"),
    (r"^record has no <metadata>", "the record has no <metadata> element"),
    (r"^<metadata> is empty", "the <metadata> element is empty"),
    (r"^the record is [\d.]+ MiB", "the record is larger than the 1 MiB eduxchange normalizes"),
    (r"nested too deeply", "the metadata is nested too deeply to read"),
    (r"not valid Unicode", "the metadata holds text that is not valid Unicode"),
    (r"^cannot merge or write", "the record could not be merged into the catalogue"),
    (r"^cannot describe the record", "the record made the crosswalk fail (please report it)"),
    (r"^unreadable record", "the record is not readable XML"),
    (r"^no description$", "the crosswalk made no description of the record"),
)
_REASONS = tuple((re.compile(p), s) for p, s in REASONS)
_SCHEMA_PROBLEM = re.compile(r"^\$(?P<path>\S*): (?P<detail>.*?)(?: \[(?P<rule>\w+)\])?$", re.S)
_REQUIRED = re.compile(r"'(?P<field>[^']+)' is a required property")
_FORMAT_PREFIX = re.compile(r"^(?P<format>[a-z_]+): (?P<rest>.*)$", re.S)
_SPLIT = re.compile(r"; (?=\$)")

#: The interface text of the page and the CSV, in the web pages' seven interface languages
#: (:mod:`eduxchange.publish.web.messages`, whose terms it shares). English is the reference and the
#: fallback; ``tests/test_report_i18n.py`` checks every language has its keys and placeholders.
#: The CSV and JSON outputs are always English (scripts read them); only the HTML is localized.
_EN: Final[Mapping[str, str]] = {
    "title": "Quality report: {name}",
    "generated": "Generated {at} from the catalogue store.",
    "endpoint": "OAI-PMH endpoint",
    "state": "Last harvest",
    "never": "never harvested",
    "summary": "Summary",
    "summary.caption": "Records of this member",
    "attempted": "Records attempted",
    "harvested": "Harvested (readable)",
    "unreadable": "Unreadable at harvest",
    "deleted": "Deleted by the member",
    "normalized": "Normalized into the catalogue",
    "quarantined": "Quarantined",
    "quarantine": "Quarantined records",
    "quarantine.caption": "Why records were quarantined (a record may have several reasons)",
    "quarantine.none": "No record is quarantined.",
    "reason": "Reason",
    "stage": "Stage",
    "records": "Records",
    "examples": "Examples",
    "detail": "Example detail",
    "completeness": "Completeness",
    "completeness.caption": "Share of normalized records with each field of the common record",
    "field": "Field",
    "filled": "Filled",
    "percent": "Percent",
    "distributions": "Distributions",
    "dist.inLanguage": "Languages",
    "dist.license": "Licences",
    "dist.openness": "Open licences",
    "dist.learningResourceType": "Resource types",
    "dist.educationalLevel": "Educational levels",
    "dist.audience": "Audiences",
    "dist.about": "Subjects",
    "value": "Value",
    "key": "IRI or code",
    "none": "none",
    "more": "{n} more values",
    "unmapped": "Values without a concept",
    "unmapped.caption": "Source values no vocabulary maps (fill in the mapping table below)",
    "unmapped.none": "Every value maps to a concept.",
    "unmapped.howto": "Save this table as a .tsv file, fill in the concept column (an IRI of "
                      "the field's scheme), list it in [catalog] extra_mappings and run "
                      "eduxchange normalize --all. Rows left without a concept are skipped.",
    "unmapped.all": "The table above lists the most frequent values; all {n} are in the file "
                    "eduxchange report -o DIR writes (ID-mappings.tsv).",
    "source": "Source",
    "trend": "Across the last runs",
    "trend.caption": "Harvest runs, and the report's figures kept for each",
    "trend.none": "No harvest run yet.",
    "run": "Run",
    "started": "Started",
    "run.state": "State",
    "new": "New",
    "updated": "Updated",
    "gone": "Deleted",
    "unmapped.values": "Unmapped values",
    "not.kept": "not kept",
    "open": "open",
    "open.restricted": "open, with restrictions (NC or ND)",
    "unrecognised": "not a recognised open licence",
    "no.licence": "no licence",
    "chart": "Chart: {what}",
    "csv.missing": "no {noun}",
    "csv.unmapped": "value not mapped to a concept",
}

_FR: Final[Mapping[str, str]] = {
    "title": "Rapport de qualité : {name}",
    "generated": "Produit le {at} à partir du magasin du catalogue.",
    "endpoint": "Point d’accès OAI-PMH",
    "state": "Dernier moissonnage",
    "never": "jamais moissonné",
    "summary": "Synthèse",
    "summary.caption": "Notices de ce membre",
    "attempted": "Notices reçues",
    "harvested": "Moissonnées (lisibles)",
    "unreadable": "Illisibles au moissonnage",
    "deleted": "Supprimées par le membre",
    "normalized": "Normalisées dans le catalogue",
    "quarantined": "En quarantaine",
    "quarantine": "Notices en quarantaine",
    "quarantine.caption": "Pourquoi des notices ont été mises en quarantaine (une notice peut "
                          "avoir plusieurs raisons)",
    "quarantine.none": "Aucune notice n’est en quarantaine.",
    "reason": "Raison",
    "stage": "Étape",
    "records": "Notices",
    "examples": "Exemples",
    "detail": "Exemple de détail",
    "completeness": "Complétude",
    "completeness.caption": "Part des notices normalisées ayant chaque champ de la notice "
                            "commune",
    "field": "Champ",
    "filled": "Rempli",
    "percent": "Pourcentage",
    "distributions": "Répartitions",
    "dist.inLanguage": "Langues",
    "dist.license": "Licences",
    "dist.openness": "Licences libres",
    "dist.learningResourceType": "Types de ressource",
    "dist.educationalLevel": "Niveaux d’études",
    "dist.audience": "Publics",
    "dist.about": "Disciplines",
    "value": "Valeur",
    "key": "IRI ou code",
    "none": "aucun",
    "more": "{n} valeurs de plus",
    "unmapped": "Valeurs sans concept",
    "unmapped.caption": "Valeurs source qu’aucun vocabulaire n’associe (complétez la table de "
                        "correspondance ci-dessous)",
    "unmapped.none": "Chaque valeur correspond à un concept.",
    "unmapped.howto": "Enregistrez cette table dans un fichier .tsv, remplissez la colonne "
                      "concept (un IRI du schéma du champ), indiquez le fichier dans [catalog] "
                      "extra_mappings et lancez eduxchange normalize --all. Les lignes sans "
                      "concept sont ignorées.",
    "unmapped.all": "La table ci-dessus montre les valeurs les plus fréquentes ; les {n} "
                    "figurent dans le fichier qu’écrit eduxchange report -o DIR "
                    "(ID-mappings.tsv).",
    "source": "Source",
    "trend": "Au fil des derniers moissonnages",
    "trend.caption": "Moissonnages, et les chiffres du rapport conservés pour chacun",
    "trend.none": "Aucun moissonnage pour l’instant.",
    "run": "Moissonnage",
    "started": "Début",
    "run.state": "État",
    "new": "Nouvelles",
    "updated": "Mises à jour",
    "gone": "Supprimées",
    "unmapped.values": "Valeurs sans correspondance",
    "not.kept": "non conservé",
    "open": "libre",
    "open.restricted": "libre, avec restrictions (NC ou ND)",
    "unrecognised": "pas une licence libre reconnue",
    "no.licence": "aucune licence",
    "chart": "Graphique : {what}",
    "csv.missing": "pas de {noun}",
    "csv.unmapped": "valeur non associée à un concept",
}

_ES: Final[Mapping[str, str]] = {
    "title": "Informe de calidad: {name}",
    "generated": "Generado el {at} a partir del almacén del catálogo.",
    "endpoint": "Punto de acceso OAI-PMH",
    "state": "Última recolección",
    "never": "nunca recolectado",
    "summary": "Resumen",
    "summary.caption": "Registros de este miembro",
    "attempted": "Registros recibidos",
    "harvested": "Recolectados (legibles)",
    "unreadable": "Ilegibles al recolectar",
    "deleted": "Eliminados por el miembro",
    "normalized": "Normalizados en el catálogo",
    "quarantined": "En cuarentena",
    "quarantine": "Registros en cuarentena",
    "quarantine.caption": "Por qué se pusieron registros en cuarentena (un registro puede "
                          "tener varios motivos)",
    "quarantine.none": "Ningún registro está en cuarentena.",
    "reason": "Motivo",
    "stage": "Etapa",
    "records": "Registros",
    "examples": "Ejemplos",
    "detail": "Detalle de ejemplo",
    "completeness": "Completitud",
    "completeness.caption": "Proporción de registros normalizados con cada campo del registro "
                            "común",
    "field": "Campo",
    "filled": "Con valor",
    "percent": "Porcentaje",
    "distributions": "Distribuciones",
    "dist.inLanguage": "Idiomas",
    "dist.license": "Licencias",
    "dist.openness": "Licencias abiertas",
    "dist.learningResourceType": "Tipos de recurso",
    "dist.educationalLevel": "Niveles educativos",
    "dist.audience": "Destinatarios",
    "dist.about": "Materias",
    "value": "Valor",
    "key": "IRI o código",
    "none": "ninguno",
    "more": "{n} valores más",
    "unmapped": "Valores sin concepto",
    "unmapped.caption": "Valores de origen que ningún vocabulario asigna (complete la tabla de "
                        "correspondencias de abajo)",
    "unmapped.none": "Cada valor corresponde a un concepto.",
    "unmapped.howto": "Guarde esta tabla como archivo .tsv, rellene la columna concept (un IRI "
                      "del esquema del campo), inclúyala en [catalog] extra_mappings y ejecute "
                      "eduxchange normalize --all. Las filas sin concepto se omiten.",
    "unmapped.all": "La tabla de arriba muestra los valores más frecuentes; los {n} están en el "
                    "archivo que escribe eduxchange report -o DIR (ID-mappings.tsv).",
    "source": "Origen",
    "trend": "En las últimas recolecciones",
    "trend.caption": "Recolecciones, y las cifras del informe guardadas para cada una",
    "trend.none": "Todavía no hay ninguna recolección.",
    "run": "Recolección",
    "started": "Inicio",
    "run.state": "Estado",
    "new": "Nuevos",
    "updated": "Actualizados",
    "gone": "Eliminados",
    "unmapped.values": "Valores sin correspondencia",
    "not.kept": "no guardado",
    "open": "abierta",
    "open.restricted": "abierta, con restricciones (NC o ND)",
    "unrecognised": "no es una licencia abierta reconocida",
    "no.licence": "sin licencia",
    "chart": "Gráfico: {what}",
    "csv.missing": "sin {noun}",
    "csv.unmapped": "valor no asignado a un concepto",
}

_RU: Final[Mapping[str, str]] = {
    "title": "Отчёт о качестве: {name}",
    "generated": "Составлен {at} по хранилищу каталога.",
    "endpoint": "Точка доступа OAI-PMH",
    "state": "Последний сбор",
    "never": "сбор не проводился",
    "summary": "Сводка",
    "summary.caption": "Записи этого участника",
    "attempted": "Получено записей",
    "harvested": "Собрано (читаемых)",
    "unreadable": "Нечитаемых при сборе",
    "deleted": "Удалено участником",
    "normalized": "Нормализовано в каталог",
    "quarantined": "В карантине",
    "quarantine": "Записи в карантине",
    "quarantine.caption": "Почему записи попали в карантин (у записи может быть несколько "
                          "причин)",
    "quarantine.none": "В карантине нет ни одной записи.",
    "reason": "Причина",
    "stage": "Этап",
    "records": "Записи",
    "examples": "Примеры",
    "detail": "Пример подробностей",
    "completeness": "Полнота",
    "completeness.caption": "Доля нормализованных записей, в которых заполнено каждое поле "
                            "общей записи",
    "field": "Поле",
    "filled": "Заполнено",
    "percent": "Процент",
    "distributions": "Распределения",
    "dist.inLanguage": "Языки",
    "dist.license": "Лицензии",
    "dist.openness": "Открытые лицензии",
    "dist.learningResourceType": "Типы ресурсов",
    "dist.educationalLevel": "Уровни образования",
    "dist.audience": "Аудитории",
    "dist.about": "Предметы",
    "value": "Значение",
    "key": "IRI или код",
    "none": "нет",
    "more": "ещё значений: {n}",
    "unmapped": "Значения без понятия",
    "unmapped.caption": "Исходные значения, которые не сопоставлены ни одному словарю "
                        "(заполните таблицу соответствий ниже)",
    "unmapped.none": "Каждое значение сопоставлено понятию.",
    "unmapped.howto": "Сохраните эту таблицу в файл .tsv, заполните столбец concept (IRI из "
                      "схемы поля), укажите файл в [catalog] extra_mappings и выполните "
                      "eduxchange normalize --all. Строки без понятия пропускаются.",
    "unmapped.all": "В таблице выше — самые частые значения; все {n} есть в файле, который "
                    "пишет eduxchange report -o DIR (ID-mappings.tsv).",
    "source": "Источник",
    "trend": "За последние сборы",
    "trend.caption": "Сборы и сохранённые для каждого показатели отчёта",
    "trend.none": "Сборов ещё не было.",
    "run": "Сбор",
    "started": "Начало",
    "run.state": "Состояние",
    "new": "Новые",
    "updated": "Обновлённые",
    "gone": "Удалённые",
    "unmapped.values": "Несопоставленные значения",
    "not.kept": "не сохранено",
    "open": "открытая",
    "open.restricted": "открытая, с ограничениями (NC или ND)",
    "unrecognised": "не признанная открытая лицензия",
    "no.licence": "лицензии нет",
    "chart": "Диаграмма: {what}",
    "csv.missing": "нет поля «{noun}»",
    "csv.unmapped": "значение не сопоставлено понятию",
}

_ZH: Final[Mapping[str, str]] = {
    "title": "质量报告：{name}",
    "generated": "根据目录存储生成于 {at}。",
    "endpoint": "OAI-PMH 接口",
    "state": "最近采集",
    "never": "从未采集",
    "summary": "概要",
    "summary.caption": "该成员的记录",
    "attempted": "尝试处理的记录",
    "harvested": "已采集（可读）",
    "unreadable": "采集时不可读",
    "deleted": "成员已删除",
    "normalized": "已规范化并收入目录",
    "quarantined": "已隔离",
    "quarantine": "被隔离的记录",
    "quarantine.caption": "记录被隔离的原因（一条记录可能有多个原因）",
    "quarantine.none": "没有被隔离的记录。",
    "reason": "原因",
    "stage": "阶段",
    "records": "记录",
    "examples": "示例",
    "detail": "示例详情",
    "completeness": "完整性",
    "completeness.caption": "已规范化的记录中具有通用记录各字段的比例",
    "field": "字段",
    "filled": "已填写",
    "percent": "百分比",
    "distributions": "分布",
    "dist.inLanguage": "语言",
    "dist.license": "许可协议",
    "dist.openness": "开放许可协议",
    "dist.learningResourceType": "资源类型",
    "dist.educationalLevel": "教育层次",
    "dist.audience": "对象",
    "dist.about": "学科",
    "value": "值",
    "key": "IRI 或代码",
    "none": "无",
    "more": "另有 {n} 个值",
    "unmapped": "没有对应概念的值",
    "unmapped.caption": "没有任何词表映射的源值（请填写下面的映射表）",
    "unmapped.none": "每个值都对应一个概念。",
    "unmapped.howto": "将此表保存为 .tsv 文件，填写 concept 列（该字段概念方案中的一个 IRI），"
                      "在 [catalog] extra_mappings 中列出该文件，然后运行 "
                      "eduxchange normalize --all。没有填写概念的行将被跳过。",
    "unmapped.all": "上表列出最常见的值；全部 {n} 个值都在 eduxchange report -o DIR "
                    "写出的文件（ID-mappings.tsv）中。",
    "source": "来源",
    "trend": "最近几次采集",
    "trend.caption": "各次采集，以及为每次保存的报告数据",
    "trend.none": "尚未进行采集。",
    "run": "采集",
    "started": "开始时间",
    "run.state": "状态",
    "new": "新增",
    "updated": "更新",
    "gone": "删除",
    "unmapped.values": "未映射的值",
    "not.kept": "未保存",
    "open": "开放",
    "open.restricted": "开放，但有限制（NC 或 ND）",
    "unrecognised": "不是公认的开放许可协议",
    "no.licence": "无许可协议",
    "chart": "图表：{what}",
    "csv.missing": "缺少{noun}",
    "csv.unmapped": "值未映射到概念",
}

_AR: Final[Mapping[str, str]] = {
    "title": "تقرير الجودة: {name}",
    "generated": "أُنشئ في {at} من مخزن الفهرس.",
    "endpoint": "نقطة وصول OAI-PMH",
    "state": "آخر جمع",
    "never": "لم يُجمع قط",
    "summary": "ملخص",
    "summary.caption": "سجلات هذا العضو",
    "attempted": "السجلات التي جرت محاولة معالجتها",
    "harvested": "المجموعة (المقروءة)",
    "unreadable": "غير مقروءة عند الجمع",
    "deleted": "حذفها العضو",
    "normalized": "وُحِّدت وأُدرجت في الفهرس",
    "quarantined": "في الحجر",
    "quarantine": "السجلات المحجورة",
    "quarantine.caption": "أسباب حجر السجلات (قد يكون للسجل الواحد عدة أسباب)",
    "quarantine.none": "لا يوجد أي سجل في الحجر.",
    "reason": "السبب",
    "stage": "المرحلة",
    "records": "السجلات",
    "examples": "أمثلة",
    "detail": "تفاصيل مثال",
    "completeness": "الاكتمال",
    "completeness.caption": "نسبة السجلات الموحّدة التي تحتوي على كل حقل من حقول السجل المشترك",
    "field": "الحقل",
    "filled": "مُعبّأ",
    "percent": "النسبة المئوية",
    "distributions": "التوزيعات",
    "dist.inLanguage": "اللغات",
    "dist.license": "التراخيص",
    "dist.openness": "التراخيص المفتوحة",
    "dist.learningResourceType": "أنواع الموارد",
    "dist.educationalLevel": "المستويات التعليمية",
    "dist.audience": "الجمهور",
    "dist.about": "المواد الدراسية",
    "value": "القيمة",
    "key": "IRI أو رمز",
    "none": "لا شيء",
    "more": "{n} قيم أخرى",
    "unmapped": "قيم بلا مفهوم",
    "unmapped.caption": "قيم المصدر التي لا يربطها أي معجم بمفهوم (املأ جدول الربط أدناه)",
    "unmapped.none": "كل قيمة مرتبطة بمفهوم.",
    "unmapped.howto": "احفظ هذا الجدول في ملف ‎.tsv، واملأ العمود concept (معرّف IRI من مخطط "
                      "الحقل)، وأدرج الملف في [catalog] extra_mappings، ثم شغّل "
                      "eduxchange normalize --all. تُتجاهل الصفوف التي تبقى بلا مفهوم.",
    "unmapped.all": "يسرد الجدول أعلاه القيم الأكثر تكرارًا؛ وجميع القيم الـ {n} موجودة في "
                    "الملف الذي يكتبه eduxchange report -o DIR ‏(ID-mappings.tsv).",
    "source": "المصدر",
    "trend": "عبر آخر عمليات الجمع",
    "trend.caption": "عمليات الجمع، وأرقام التقرير المحفوظة لكل منها",
    "trend.none": "لم تجرِ أي عملية جمع بعد.",
    "run": "عملية الجمع",
    "started": "البدء",
    "run.state": "الحالة",
    "new": "جديدة",
    "updated": "محدّثة",
    "gone": "محذوفة",
    "unmapped.values": "قيم غير مربوطة",
    "not.kept": "غير محفوظ",
    "open": "مفتوح",
    "open.restricted": "مفتوح، مع قيود (NC أو ND)",
    "unrecognised": "ليس ترخيصًا مفتوحًا معروفًا",
    "no.licence": "بلا ترخيص",
    "chart": "رسم بياني: {what}",
    "csv.missing": "لا يوجد {noun}",
    "csv.unmapped": "قيمة غير مربوطة بمفهوم",
}

_DE: Final[Mapping[str, str]] = {
    "title": "Qualitätsbericht: {name}",
    "generated": "Erstellt am {at} aus dem Katalogspeicher.",
    "endpoint": "OAI-PMH-Schnittstelle",
    "state": "Letzte Ernte",
    "never": "nie geerntet",
    "summary": "Übersicht",
    "summary.caption": "Datensätze dieses Mitglieds",
    "attempted": "Empfangene Datensätze",
    "harvested": "Geerntet (lesbar)",
    "unreadable": "Beim Ernten unlesbar",
    "deleted": "Vom Mitglied gelöscht",
    "normalized": "In den Katalog normalisiert",
    "quarantined": "In Quarantäne",
    "quarantine": "Datensätze in Quarantäne",
    "quarantine.caption": "Warum Datensätze in Quarantäne kamen (ein Datensatz kann mehrere "
                          "Gründe haben)",
    "quarantine.none": "Kein Datensatz ist in Quarantäne.",
    "reason": "Grund",
    "stage": "Schritt",
    "records": "Datensätze",
    "examples": "Beispiele",
    "detail": "Beispieldetail",
    "completeness": "Vollständigkeit",
    "completeness.caption": "Anteil der normalisierten Datensätze mit jedem Feld des "
                            "gemeinsamen Datensatzes",
    "field": "Feld",
    "filled": "Ausgefüllt",
    "percent": "Prozent",
    "distributions": "Verteilungen",
    "dist.inLanguage": "Sprachen",
    "dist.license": "Lizenzen",
    "dist.openness": "Offene Lizenzen",
    "dist.learningResourceType": "Ressourcentypen",
    "dist.educationalLevel": "Bildungsstufen",
    "dist.audience": "Zielgruppen",
    "dist.about": "Fächer",
    "value": "Wert",
    "key": "IRI oder Code",
    "none": "keine",
    "more": "{n} weitere Werte",
    "unmapped": "Werte ohne Konzept",
    "unmapped.caption": "Quellwerte, die kein Vokabular zuordnet (füllen Sie die "
                        "Zuordnungstabelle unten aus)",
    "unmapped.none": "Jeder Wert ist einem Konzept zugeordnet.",
    "unmapped.howto": "Speichern Sie diese Tabelle als .tsv-Datei, füllen Sie die Spalte "
                      "concept aus (eine IRI aus dem Schema des Feldes), tragen Sie die Datei "
                      "in [catalog] extra_mappings ein und führen Sie eduxchange normalize --all "
                      "aus. Zeilen ohne Konzept werden übersprungen.",
    "unmapped.all": "Die Tabelle oben zeigt die häufigsten Werte; alle {n} stehen in der Datei, "
                    "die eduxchange report -o DIR schreibt (ID-mappings.tsv).",
    "source": "Quelle",
    "trend": "Über die letzten Ernten",
    "trend.caption": "Ernteläufe und die für jeden gespeicherten Kennzahlen des Berichts",
    "trend.none": "Noch keine Ernte.",
    "run": "Lauf",
    "started": "Beginn",
    "run.state": "Zustand",
    "new": "Neu",
    "updated": "Geändert",
    "gone": "Gelöscht",
    "unmapped.values": "Nicht zugeordnete Werte",
    "not.kept": "nicht gespeichert",
    "open": "offen",
    "open.restricted": "offen, mit Einschränkungen (NC oder ND)",
    "unrecognised": "keine anerkannte offene Lizenz",
    "no.licence": "keine Lizenz",
    "chart": "Diagramm: {what}",
    "csv.missing": "kein(e) {noun}",
    "csv.unmapped": "Wert keinem Konzept zugeordnet",
}

MESSAGES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    lang: MappingProxyType(dict(table)) for lang, table in (
        ("en", _EN), ("fr", _FR), ("es", _ES), ("ru", _RU), ("zh", _ZH), ("ar", _AR),
        ("de", _DE))})

#: Fields counted value by value in the distributions, in the page's order.
DISTRIBUTIONS: Final[tuple[str, ...]] = (
    "inLanguage", "license", "openness", "learningResourceType", "educationalLevel", "audience",
    "about")
_CONCEPT_FIELDS: Final = ("learningResourceType", "educationalLevel", "audience", "about")
#: Fields the catalogue makes rather than the member (left out of completeness).
_CATALOGUE_FIELDS: Final = frozenset({"@context", "id", "type", "sameAs", "mainEntityOfPage"})
_EXAMPLES: Final = 3
#: Interface languages written right to left (as :data:`eduxchange.publish.web.messages.RTL_LANGUAGES`,
#: which this lower layer may not import).
_RTL: Final = frozenset({"ar"})
_TREND_RUNS: Final = 10


def _t(lang: str, key: str, **values: object) -> str:
    text = MESSAGES.get(lang, MESSAGES["en"]).get(key) or MESSAGES["en"][key]
    return text.format(**values) if values else text


@cache
def report_fields() -> tuple[str, ...]:
    """The common record's fields a member fills, in the schema's order."""
    text = (files("eduxchange.schemas") / "resource.schema.json").read_text(encoding="utf-8")
    return tuple(k for k in json.loads(text)["properties"] if k not in _CATALOGUE_FIELDS)


# ---------------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True, kw_only=True)
class Count:
    """One value of a distribution: its key (an IRI, a code), label and how many records."""

    key: str
    label: str
    count: int
    percent: float

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"key": self.key, "label": self.label, "count": self.count,
                "percent": self.percent}


@dataclass(frozen=True, slots=True, kw_only=True)
class ReasonGroup:
    """Quarantined records that share one reason in plain words."""

    stage: str
    reason: str
    count: int
    examples: tuple[str, ...]
    detail: str = ""

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"stage": self.stage, "reason": self.reason, "count": self.count,
                "examples": list(self.examples), "detail": self.detail}


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldCompleteness:
    """How many normalized records have a field."""

    field: str
    label: str
    filled: int
    percent: float

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"field": self.field, "label": self.label, "filled": self.filled,
                "percent": self.percent}


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmappedValue:
    """A source value no vocabulary maps, in how many records, with examples."""

    field: str
    source: str
    value: str
    count: int
    examples: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"field": self.field, "source": self.source, "value": self.value,
                "count": self.count, "examples": list(self.examples)}


@dataclass(frozen=True, slots=True, kw_only=True)
class RunPoint:
    """One harvest run of the member, with the report figures kept for it (if any)."""

    run_id: int
    started_at: str
    state: str
    mode: str
    counts: Mapping[str, int]
    figures: Mapping[str, Any] | None

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping."""
        return {"run": self.run_id, "started_at": self.started_at, "state": self.state,
                "mode": self.mode, "counts": dict(self.counts),
                "figures": None if self.figures is None else dict(self.figures)}


@dataclass(frozen=True, slots=True, kw_only=True)
class MemberReport:
    """One member's quality report (:func:`member_report`); ``to_dict`` is its JSON."""

    member_id: str
    name: str
    endpoint: str
    generated_at: str
    state: str
    last_harvest: str | None
    error: str | None
    totals: Mapping[str, int]
    quarantine: tuple[ReasonGroup, ...]
    completeness: tuple[FieldCompleteness, ...]
    distributions: Mapping[str, tuple[Count, ...]]
    unmapped: tuple[UnmappedValue, ...]
    trend: tuple[RunPoint, ...] = ()

    @property
    def last_run(self) -> int | None:
        """The member's latest run (the one :func:`save_snapshot` files the figures under)."""
        return self.trend[0].run_id if self.trend else None

    def figures(self) -> dict[str, Any]:
        """The key figures kept per run for the trend (small: no examples, no values)."""
        return {
            **dict(self.totals),
            "completeness": {c.field: c.percent for c in self.completeness},
            "unmapped_values": len(self.unmapped),
            "unmapped_records": sum(u.count for u in self.unmapped),
            "reasons": {g.reason: g.count for g in self.quarantine},
        }

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (``eduxchange report --format json``)."""
        return {
            "member": self.member_id, "name": self.name, "endpoint": self.endpoint,
            "generated_at": self.generated_at, "state": self.state,
            "last_harvest": self.last_harvest, "error": self.error,
            "totals": dict(self.totals),
            "quarantine": [g.to_dict() for g in self.quarantine],
            "completeness": [c.to_dict() for c in self.completeness],
            "distributions": {k: [c.to_dict() for c in v] for k, v in self.distributions.items()},
            "unmapped": [u.to_dict() for u in self.unmapped],
            "trend": [p.to_dict() for p in self.trend],
        }


def _pct(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, (str, list, dict, tuple)):
        return bool(value)
    return True


#: Short names of concept schemes, added to a concept's label: HCRT and LRMI both have an
#: "assessment", and a resource carries the types of both (vocab.EXTRA_SCHEMES).
SCHEME_TAGS: Final[tuple[tuple[str, str], ...]] = (
    ("https://w3id.org/kim/hcrt/", "HCRT"),
    ("http://purl.org/dcx/lrmi-vocabs/learningResourceType/", "LRMI"),
)


def _tagged(key: str, label: str) -> str:
    for prefix, tag in SCHEME_TAGS:
        if key.startswith(prefix):
            return f"{label} ({tag})"
    return label


def _label(item: Any, lang: str) -> tuple[str, str] | None:
    """An IRI-or-code value of a record field as (key, label)."""
    if isinstance(item, str):
        return item, item
    if isinstance(item, Mapping):
        key = item.get("id")
        if not isinstance(key, str):
            return None
        labels = item.get("prefLabel")
        if isinstance(labels, Mapping):
            text = labels.get(lang) or labels.get("en") or next(iter(labels.values()), key)
            return key, _tagged(key, str(text))
        return key, _licence_label(key)
    return None


_CC = re.compile(r"^https?://creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/([\d.]+)/")


def _licence_label(iri: str) -> str:
    """A short name of a canonical licence IRI ("CC BY-SA 4.0", "CC0 1.0"); else the IRI."""
    m = _CC.match(iri)
    if not m:
        return iri
    kind, code, version = m.groups()
    if kind == "publicdomain":
        return {"zero": f"CC0 {version}", "mark": "Public Domain Mark"}.get(code, iri)
    return f"CC {code.upper()} {version}"


def _openness(description: Description) -> str:
    """``open``, ``open.restricted``, ``unrecognised`` or ``no.licence`` (MESSAGES keys).

    Open means a licence eduxchange recognises (normalize/licenses.py canonicalises only open
    licences to IRIs); NC and ND licences are open with restrictions (not "free cultural works").
    """
    licence = description.get("license")
    iri = licence.get("id") if isinstance(licence, Mapping) else None
    if not isinstance(iri, str) or not iri:
        return "no.licence"
    m = _CC.match(iri)
    if m and m.group(1) == "licenses" and ("nc" in m.group(2).split("-")
                                            or "nd" in m.group(2).split("-")):
        return "open.restricted"
    if m or re.match(r"^https?://(spdx\.org|opensource\.org|www\.gnu\.org)/", iri):
        return "open"
    return "unrecognised"


def _keys(value: Any) -> dict[str, Any]:
    """The values of a record field by key (an IRI or a code), each once, in order."""
    items = value if isinstance(value, list) else ([] if value is None else [value])
    out: dict[str, Any] = {}
    for item in items:
        key = item if isinstance(item, str) else (
            item.get("id") if isinstance(item, Mapping) else None)
        if isinstance(key, str) and key not in out:
            out[key] = item
    return out


def plain_reasons(entry: QuarantineEntry) -> list[tuple[str, str, str]]:
    """A quarantine reason in plain words: ``(field, sentence, detail)`` per problem.

    A validation problem (``$: 'name' is a required property [required]``) becomes "no title
    (lom: general/title)", naming the element of the record's format (:data:`ELEMENTS`); a
    crosswalk or harvest reason becomes the sentence of :data:`REASONS`. What no table knows is
    kept as written.
    """
    text = entry.reason
    fmt = ""
    m = _FORMAT_PREFIX.match(text)
    if entry.stage == "normalize" and m:
        fmt, text = m.group("format"), m.group("rest")
    out: list[tuple[str, str, str]] = []
    for problem in _SPLIT.split(text):
        out.append(_plain(problem.strip(), fmt))
    return out


def _plain(problem: str, fmt: str) -> tuple[str, str, str]:
    m = _SCHEMA_PROBLEM.match(problem)
    if m and m.group("rule"):
        rule, detail = m.group("rule"), m.group("detail")
        path = [p for p in re.split(r"[.\[\]]", m.group("path")) if p and not p.isdigit()]
        name = path[0].strip("'") if path else ""
        req = _REQUIRED.search(detail)
        if rule == "required" and req and not path:
            name, detail = req.group("field"), ""
        element = ELEMENTS.get(fmt, {}).get(name) or (name if fmt == "lrmi" else "")
        where = f" ({element})" if element else ""
        noun = FIELD_NOUNS.get(name, name or "record")
        sentence = _RULES.get(rule, "an invalid {noun}{element}").format(noun=noun, element=where)
        return name, sentence, detail
    for pattern, sentence in _REASONS:
        found = pattern.search(problem)
        if found:
            return "", sentence.format(*found.groups()), problem
    short = problem if len(problem) <= 160 else problem[:159] + "…"
    return "", short, ""


def member_report(store: StoreReader, member: MemberConfig, *, lang: str = "en",
                  trend_runs: int = _TREND_RUNS, now: datetime | None = None) -> MemberReport:
    """The quality report of ``member`` from what ``store`` holds (reads only; streams).

    Memory is bounded by the number of distinct values and reasons, not of records: the
    member's descriptions and quarantine entries are streamed once each.
    """
    state = store.member_state(member.id)
    counts = store.counts(member.id)
    # Quarantine: each record once per plain reason; its earliest identifiers as examples.
    groups: dict[tuple[str, str], list[Any]] = {}
    quarantined = unreadable = 0
    for entry in store.iter_quarantine(member.id):
        quarantined += 1
        if entry.stage == "harvest":
            unreadable += 1
        seen: set[str] = set()
        for _field, sentence, detail in plain_reasons(entry):
            if sentence in seen:
                continue
            seen.add(sentence)
            group = groups.setdefault((entry.stage, sentence), [0, [], detail])
            group[0] += 1
            if len(group[1]) < _EXAMPLES:
                group[1].append(entry.identifier or f"(no identifier, entry {entry.id})")
    # Descriptions: completeness and distributions in one pass.
    names = report_fields()
    filled: Counter[str] = Counter()
    dists: dict[str, Counter[str]] = {k: Counter() for k in DISTRIBUTIONS}
    labels: dict[str, dict[str, str]] = {k: {} for k in DISTRIBUTIONS}
    normalized = 0
    for d in store.iter_descriptions(member.id):
        normalized += 1
        desc = d.description
        for name in names:
            if _filled(desc.get(name)):
                filled[name] += 1
        for name in DISTRIBUTIONS:
            if name == "openness":
                key = _openness(desc)
                dists[name][key] += 1
                labels[name][key] = _t(lang, key)
                continue
            keys = _keys(desc.get(name))
            if not keys:
                keys = {"": None}
                labels[name].setdefault("", _t(lang, "none"))
            known = labels[name]
            for key, item in keys.items():
                dists[name][key] += 1
                if key not in known:  # labels once per value, not once per record
                    found = _label(item, lang)
                    known[key] = found[1] if found else key
    distributions = {
        name: tuple(Count(key=k, label=labels[name][k], count=n, percent=_pct(n, normalized))
                    for k, n in sorted(dists[name].items(), key=lambda kv: (-kv[1], kv[0])))
        for name in DISTRIBUTIONS}
    completeness = tuple(
        FieldCompleteness(field=name, label=FIELD_NOUNS.get(name, name), filled=filled[name],
                          percent=_pct(filled[name], normalized)) for name in names)
    unmapped = tuple(UnmappedValue(field=f, source=s, value=v, count=n, examples=ex)
                     for f, s, v, n, ex in store.unmapped_terms(member.id, examples=_EXAMPLES))
    snapshots = {run: figures for run, _, figures in store.report_snapshots(member.id,
                                                                              limit=trend_runs * 2)}
    trend = tuple(RunPoint(run_id=r.id, started_at=r.started_at, state=r.state, mode=r.mode,
                           counts=MappingProxyType(dict(r.counts)),
                           figures=snapshots.get(r.id))
                  for r in store.runs(member.id, limit=trend_runs))
    totals = {"attempted": counts["records"] + unreadable, "harvested": counts["records"],
              "unreadable": unreadable, "deleted": counts["deleted"], "normalized": normalized,
              "quarantined": quarantined}
    report = MemberReport(
        member_id=member.id, name=member.name, endpoint=member.endpoint,
        generated_at=(now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        state=state.state, last_harvest=state.last_harvest, error=state.error,
        totals=MappingProxyType(totals),
        quarantine=tuple(ReasonGroup(stage=stage, reason=reason, count=g[0],
                                     examples=tuple(g[1]), detail=g[2])
                         for (stage, reason), g in sorted(groups.items(),
                                                          key=lambda kv: (-kv[1][0], kv[0]))),
        completeness=completeness, distributions=MappingProxyType(distributions),
        unmapped=unmapped, trend=trend)
    if trend and trend[0].figures is None:
        # The catalogue as it is now is the state after the latest run: its figures are these.
        latest = replace(trend[0], figures=MappingProxyType(report.figures()))
        report = replace(report, trend=(latest, *trend[1:]))
    return report


def save_snapshot(store: CatalogStore, report: MemberReport) -> None:
    """Keep the report's key figures under the member's latest run, for later trends."""
    store.put_report_snapshot(report.member_id, report.last_run, report.figures())


# ---------------------------------------------------------------------- mapping table


def mapping_tsv(report: MemberReport, *, limit: int | None = None) -> str:
    """The unmapped values as an ``extra_mappings`` table with an empty concept column.

    The format of docs/normalization.md (``field<TAB>source<TAB>value<TAB>concept``); rows whose
    concept is still empty are skipped when the table is loaded, so it can be filled in part.
    ``limit`` keeps the most frequent values only (the page shows those; the file has all).
    """
    lines = ["field\tsource\tvalue\tconcept",
             f"# Unmapped values of member {_tsv(report.member_id)}, {report.generated_at}.",
             "# Fill in the concept (an IRI of the field's scheme); rows left empty are skipped.",
             "# List this file in [catalog] extra_mappings, then run eduxchange normalize --all."]
    for u in report.unmapped[:limit]:
        lines.append(f"# {u.count} record{'s' if u.count != 1 else ''}, e.g. "
                     f"{_tsv(', '.join(u.examples))}")
        lines.append(f"{_tsv(u.field)}\t{_tsv(u.source) or 'text'}\t{_tsv(u.value)}\t")
    return "\n".join(lines) + "\n"


def _tsv(text: str) -> str:
    """A cell of the table: no tab or line break (the format has no quoting)."""
    return " ".join(text.split())


# ---------------------------------------------------------------------- warnings CSV

CSV_COLUMNS: Final = ("identifier", "field", "severity", "problem", "source_element", "detail")


def iter_warnings(store: StoreReader, member: MemberConfig, *, lang: str = "en"
                  ) -> Iterator[tuple[str, str, str, str, str, str]]:
    """The per-field warnings (:data:`CSV_COLUMNS`), record by record, streamed.

    Errors: each problem of a quarantined record. Warnings: each unmapped value, and each
    :data:`RECOMMENDED` field a normalized record lacks.
    """
    for entry in store.iter_quarantine(member.id):
        ident = entry.identifier or ""
        for name, sentence, detail in plain_reasons(entry):
            fmt = m.group("format") if (m := _FORMAT_PREFIX.match(entry.reason)) else ""
            yield (ident, name, "error", sentence, ELEMENTS.get(fmt, {}).get(name, ""), detail)
    for ident, name, source, value in store.iter_unmapped(member.id):
        yield (ident, name, "warning", _t(lang, "csv.unmapped"), source, value)
    for d in store.iter_descriptions(member.id):
        elements = ELEMENTS.get(d.format, {})
        for name in RECOMMENDED:
            if not _filled(d.description.get(name)):
                yield (d.identifier, name, "warning",
                       _t(lang, "csv.missing", noun=FIELD_NOUNS.get(name, name)),
                       elements.get(name, name if d.format == "lrmi" else ""), "")


def write_warnings_csv(store: StoreReader, member: MemberConfig, out: TextIO, *,
                       lang: str = "en") -> int:
    """Write :func:`iter_warnings` as CSV (RFC 4180, a header row); returns the rows written."""
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for row in iter_warnings(store, member, lang=lang):
        writer.writerow(row)
        n += 1
    return n


# ---------------------------------------------------------------------- HTML

_CSS: Final = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:0 auto;padding:1rem;line-height:1.4;color:#1b1b1b}
table{border-collapse:collapse;margin:.5rem 0 1.5rem;width:100%}
caption{text-align:start;font-weight:600;padding:.25rem 0}
th,td{border-bottom:1px solid #ccc;padding:.25rem .5rem;text-align:start;vertical-align:top}
td.n{text-align:end;font-variant-numeric:tabular-nums}
svg{max-width:100%;height:auto}
pre{background:#f4f4f4;padding:.5rem;overflow-x:auto}
code{word-break:break-all}
"""
#: The charts are drawn left to right in every language: ``direction="ltr"`` keeps their
#: ``text-anchor="end"`` labels before the bars in a right-to-left page (SVG 1.1, 10.9.1: the
#: anchor follows the inherited ``direction``), while each label's own script still reads in
#: its own direction (the Unicode bidirectional algorithm).
_SVG: Final = '<svg xmlns="http://www.w3.org/2000/svg" direction="ltr" role="img"'
_BAR_ROWS: Final = 12  # values shown in a chart; the table lists the rest
_TABLE_ROWS: Final = 50


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _bar_chart(title: str, rows: Sequence[tuple[str, float, str]], *, maximum: float) -> str:
    """A horizontal bar chart as inline SVG: ``(label, value, value as text)`` per bar."""
    rows = list(rows)[:_BAR_ROWS]
    bar_h, gap, label_w, bar_w = 18, 6, 220, 300
    height = max(1, len(rows)) * (bar_h + gap) + gap
    parts = [f'{_SVG} aria-label="{_e(title)}" '
             f'width="{label_w + bar_w + 80}" height="{height}" '
             f'viewBox="0 0 {label_w + bar_w + 80} {height}" font-size="12">',
             f"<title>{_e(title)}</title>"]
    for i, (label, value, text) in enumerate(rows):
        y = gap + i * (bar_h + gap)
        width = 0 if maximum <= 0 else round(bar_w * value / maximum, 1)
        shown = label if len(label) <= 34 else label[:33] + "…"
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end">{_e(shown)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar_h}" '
                     f'fill="#2f6f9f"><title>{_e(label)}: {_e(text)}</title></rect>'
                     f'<text x="{label_w + width + 4}" y="{y + 13}">{_e(text)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _table(caption: str, head: Sequence[str], rows: Iterable[Sequence[object]],
           numeric: Sequence[int] = ()) -> str:
    out = [f"<table><caption>{_e(caption)}</caption><thead><tr>",
           *(f'<th scope="col">{_e(h)}</th>' for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(
            f'<td class="n">{_e(c)}</td>' if i in numeric else f"<td>{_e(c)}</td>"
            for i, c in enumerate(row)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render_html(report: MemberReport, lang: str = "en", *, fragment: bool = False) -> str:
    """The report as an HTML page (or, with ``fragment``, the ``<section>`` to embed).

    ``lang`` chooses the interface text (:data:`MESSAGES`); concept labels are those of the
    language :func:`member_report` was asked for.

    Self-contained: styles inline, charts inline SVG with a title and ``aria-label``, no
    script and no external resource; every heading has a table with a caption beside its chart.
    """
    # The page says the language its text is in: English until MESSAGES has the one asked for.
    lang = lang if lang in MESSAGES else "en"
    # Field nouns in the page's language; the report itself (its JSON) keeps the English ones.
    nouns = FIELD_LABELS.get(lang, {})
    completeness = [replace(c, label=nouns.get(c.field, c.label)) for c in report.completeness]

    def t(key: str, **values: object) -> str:
        return _t(lang, key, **values)

    r = report
    body: list[str] = [f'<section class="member-report" lang="{_e(lang)}">',
                       f"<h1>{_e(t('title', name=r.name))}</h1>",
                       f"<p>{_e(t('generated', at=r.generated_at))} {_e(t('endpoint'))}: "
                       f"<code>{_e(r.endpoint)}</code>. {_e(t('state'))}: "
                       f"{_e(r.last_harvest or t('never'))} ({_e(r.state)})"
                       f"{': ' + _e(r.error) if r.error else ''}.</p>"]
    # Summary
    keys = ("attempted", "harvested", "unreadable", "deleted", "normalized", "quarantined")
    body.append(f"<h2>{_e(t('summary'))}</h2>")
    body.append(_bar_chart(t("chart", what=t("summary.caption")),
                           [(t(k), r.totals[k], str(r.totals[k])) for k in keys[1:]],
                           maximum=max([r.totals[k] for k in keys] + [1])))
    body.append(_table(t("summary.caption"), (t("summary"), t("records")),
                       [(t(k), r.totals[k]) for k in keys], numeric=(1,)))
    # Quarantine
    body.append(f"<h2>{_e(t('quarantine'))}</h2>")
    if r.quarantine:
        body.append(_table(t("quarantine.caption"),
                           (t("reason"), t("stage"), t("records"), t("examples"), t("detail")),
                           [(g.reason, g.stage, g.count, ", ".join(g.examples), g.detail)
                            for g in r.quarantine[:_TABLE_ROWS]], numeric=(2,)))
    else:
        body.append(f"<p>{_e(t('quarantine.none'))}</p>")
    # Completeness
    body.append(f"<h2>{_e(t('completeness'))}</h2>")
    body.append(_completeness_chart(t("chart", what=t("completeness.caption")), completeness))
    body.append(_table(t("completeness.caption"), (t("field"), t("filled"), t("percent")),
                       [(f"{c.label} ({c.field})", c.filled, f"{c.percent:g}%")
                        for c in completeness], numeric=(1, 2)))
    # Distributions
    body.append(f"<h2>{_e(t('distributions'))}</h2>")
    for name, values in r.distributions.items():
        heading = t(f"dist.{name}")
        body.append(f"<h3>{_e(heading)}</h3>")
        if values:
            body.append(_bar_chart(t("chart", what=heading),
                                   [(c.label, c.count, f"{c.count} ({c.percent:g}%)")
                                    for c in values], maximum=max(c.count for c in values)))
        rows: list[tuple[object, ...]] = [(c.label, c.key, c.count, f"{c.percent:g}%")
                                          for c in values[:_TABLE_ROWS]]
        if len(values) > _TABLE_ROWS:
            rows.append((t("more", n=len(values) - _TABLE_ROWS), "", "", ""))
        body.append(_table(heading, (t("value"), t("key"), t("records"), t("percent")), rows,
                           numeric=(2, 3)))
    # Unmapped values
    body.append(f"<h2>{_e(t('unmapped'))}</h2>")
    if r.unmapped:
        body.append(_table(t("unmapped.caption"),
                           (t("field"), t("source"), t("value"), t("records"), t("examples")),
                           [(u.field, u.source, u.value, u.count, ", ".join(u.examples))
                            for u in r.unmapped[:_TABLE_ROWS * 4]], numeric=(3,)))
        shown = _TABLE_ROWS * 4
        body.append(f"<p>{_e(t('unmapped.howto'))}</p>"
                    # A TSV file's columns read left to right in every interface language.
                    f'<pre dir="ltr">{_e(mapping_tsv(r, limit=shown))}</pre>')
        if len(r.unmapped) > shown:
            body.append(f"<p>{_e(t('unmapped.all', n=len(r.unmapped)))}</p>")
    else:
        body.append(f"<p>{_e(t('unmapped.none'))}</p>")
    # Trend
    body.append(f"<h2>{_e(t('trend'))}</h2>")
    if r.trend:
        body.append(_trend_chart(t("chart", what=t("trend.caption")), r, t))
        dash = "—"
        body.append(_table(
            t("trend.caption"),
            (t("run"), t("started"), t("run.state"), t("new"), t("updated"), t("gone"),
             t("quarantined"), t("normalized"), t("unmapped.values")),
            [(p.run_id, p.started_at, p.state, p.counts.get("new", 0), p.counts.get("updated", 0),
              p.counts.get("deleted", 0), p.counts.get("quarantined", 0),
              p.figures.get("normalized", dash) if p.figures else t("not.kept"),
              p.figures.get("unmapped_values", dash) if p.figures else dash) for p in r.trend],
            numeric=(0, 3, 4, 5, 6, 7, 8)))
    else:
        body.append(f"<p>{_e(t('trend.none'))}</p>")
    body.append("</section>")
    section = "\n".join(body)
    if fragment:
        # Inside a page that has its own <h1> and a "Quality report" <h2>: one level down, and
        # the report's own title (the page's) left out.
        section = section.replace(f"<h1>{_e(t('title', name=r.name))}</h1>\n", "", 1)
        for level in (3, 2):
            section = section.replace(f"<h{level}>", f"<h{level + 1}>").replace(
                f"</h{level}>", f"</h{level + 1}>")
        return section
    # A fragment takes the direction of the page it is embedded in (that page's own ``dir``).
    direction = ' dir="rtl"' if lang in _RTL else ""
    return (f'<!DOCTYPE html>\n<html lang="{_e(lang)}"{direction}><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>{_e(t('title', name=r.name))}</title><style>{_CSS}</style></head>"
            f"<body>\n{section}\n</body></html>\n")


def _completeness_chart(title: str, fields: Sequence[FieldCompleteness]) -> str:
    """Completeness of every field: a compact chart (one thin bar per field)."""
    bar_h, gap, label_w, bar_w = 12, 3, 220, 300
    height = len(fields) * (bar_h + gap) + gap
    width = label_w + bar_w + 60
    parts = [f'{_SVG} aria-label="{_e(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-size="10">',
             f"<title>{_e(title)}</title>"]
    for i, c in enumerate(fields):
        y = gap + i * (bar_h + gap)
        w = round(bar_w * c.percent / 100, 1)
        parts.append(f'<text x="{label_w - 6}" y="{y + 10}" text-anchor="end">{_e(c.label)}</text>'
                     f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="#e6e6e6"/>'
                     f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="#2f6f9f">'
                     f"<title>{_e(c.field)}: {c.percent:g}%</title></rect>"
                     f'<text x="{label_w + bar_w + 4}" y="{y + 10}">{c.percent:g}%</text>')
    parts.append("</svg>")
    return "".join(parts)


def _trend_chart(title: str, report: MemberReport, t: Callable[..., str]) -> str:
    """Per run (oldest left): records new+updated (bar) and quarantined at harvest (red)."""
    points = list(reversed(report.trend))
    col, height, base = 48, 140, 110
    width = max(1, len(points)) * col + 40
    top = max([p.counts.get("new", 0) + p.counts.get("updated", 0) + p.counts.get("quarantined", 0)
               for p in points] + [1])
    parts = [f'{_SVG} aria-label="{_e(title)}" '
             f'width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-size="10">',
             f"<title>{_e(title)}</title>"]
    for i, p in enumerate(points):
        x = 20 + i * col
        changed = p.counts.get("new", 0) + p.counts.get("updated", 0)
        bad = p.counts.get("quarantined", 0)
        h1 = round(90 * changed / top, 1)
        h2 = round(90 * bad / top, 1)
        parts.append(
            f'<rect x="{x}" y="{base - h1}" width="{col - 16}" height="{h1}" fill="#2f6f9f">'
            f"<title>{_e(t('run'))} {p.run_id}: {changed} {_e(t('new'))}/{_e(t('updated'))}"
            f"</title></rect>"
            f'<rect x="{x}" y="{base - h1 - h2}" width="{col - 16}" height="{h2}" fill="#b3261e">'
            f"<title>{_e(t('run'))} {p.run_id}: {bad} {_e(t('quarantined'))}</title></rect>"
            f'<text x="{x}" y="{base + 14}">#{p.run_id}</text>'
            f'<text x="{x}" y="{base + 26}">{_e(p.state)}</text>')
    parts.append("</svg>")
    return "".join(parts)
