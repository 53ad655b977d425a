"""The interface text of the web pages in the six UN languages and German.

Data, not code (STYLE.md, habit 7): one table per language, the same keys in each
(``tests/test_pages.py`` checks it). English is the reference and the fallback. Placeholders
are ``str.format`` fields, filled in after escaping (:mod:`eduxchange.publish.web.pages`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = ["MESSAGES", "UI_LANGUAGES", "RTL_LANGUAGES", "LANGUAGE_NAMES"]

#: Interface languages, in the order the switcher lists them.
UI_LANGUAGES: Final[tuple[str, ...]] = ("en", "fr", "es", "ru", "zh", "ar", "de")
#: Interface languages written right to left (HTML ``dir="rtl"``).
RTL_LANGUAGES: Final = frozenset({"ar"})
#: Each interface language's name in itself (for the switcher).
LANGUAGE_NAMES: Final[Mapping[str, str]] = MappingProxyType({
    "en": "English", "fr": "Français", "es": "Español", "ru": "Русский", "zh": "中文",
    "ar": "العربية", "de": "Deutsch",
})

_EN = {
    "list_separator": ", ",
    "site_title": "Open educational resources catalogue",
    "tagline": "Open educational resources from the members of the alliance: harvested over "
               "OAI-PMH, merged into one catalogue and republished for people and machines.",
    "resources": "resources", "members": "members", "languages": "languages",
    "licences": "licences",
    "members_heading": "Members",
    "member": "Member", "country": "Country", "last_harvest": "Last harvest", "state": "State",
    "records": "Records",
    "state_ok": "ok", "state_failed": "failed", "state_never": "never harvested",
    "feeds_heading": "For machines: feeds and dumps",
    "feed_oai": "Harvest the whole catalogue (oai_dc, LOM, RDF) with any OAI-PMH harvester; "
                "sets by member, language and resource type.",
    "feed_changes": "Activity Streams 2.0 change feed: read the newest page and walk back to "
                    "catch up with every creation, update and deletion.",
    "feed_dumps": "Every record as JSON-LD, Turtle, N-Triples or RDF/XML at its own address "
                  "(content negotiation or ?format=); operators write full dumps with "
                  "“eduxchange export”.",
    "feed_vocab": "The SKOS concept schemes every type, level and subject comes from.",
    "dumps": "Records and dumps", "vocabularies": "Vocabularies", "change_feed": "Change feed",
    "search_label": "Search the catalogue", "search_button": "Search",
    "language_label": "Interface language",
    "home": "Home",
    "description": "Description",
    "open_resource": "Open the resource",
    "licence": "Licence", "no_licence": "No licence stated",
    "in_language": "Language of the resource",
    "levels": "Educational level", "types": "Resource type", "subjects": "Subject",
    "audience": "Audience", "keywords": "Keywords", "authors": "Authors",
    "publisher": "Publisher", "details": "About this resource",
    "provenance_heading": "Where this description comes from",
    "changed": "changed {date}",
    "getrecord": "Original metadata (GetRecord)",
    "as_data": "This record as data",
    "member_title": "Member {name}",
    "endpoint": "OAI-PMH endpoint", "last_error": "Last error",
    "harvested_records": "Records harvested", "deleted_records": "Deleted at the member",
    "quarantined": "Quarantined records", "catalogue_records": "Catalogue records",
    "browse_records": "Its records: OAI-PMH set {set}",
    "quality_report": "Quality report",
    "report_pending": "The quality report for this member is not available yet.",
    "no_members": "No members are configured.",
    "footer": "Served by eduxchange. Each record's licence is shown on its page.",
}

_FR = {
    "list_separator": ", ",
    "site_title": "Catalogue de ressources éducatives libres",
    "tagline": "Les ressources éducatives libres des membres de l’alliance : moissonnées par "
               "OAI-PMH, réunies dans un catalogue et republiées pour les personnes et les "
               "machines.",
    "resources": "ressources", "members": "membres", "languages": "langues",
    "licences": "licences",
    "members_heading": "Membres",
    "member": "Membre", "country": "Pays", "last_harvest": "Dernier moissonnage",
    "state": "État", "records": "Notices",
    "state_ok": "ok", "state_failed": "en échec", "state_never": "jamais moissonné",
    "feeds_heading": "Pour les machines : flux et exports",
    "feed_oai": "Moissonnez tout le catalogue (oai_dc, LOM, RDF) avec n’importe quel "
                "moissonneur OAI-PMH ; ensembles par membre, langue et type de ressource.",
    "feed_changes": "Flux des changements Activity Streams 2.0 : lisez la page la plus récente "
                    "et remontez pour suivre chaque création, mise à jour et suppression.",
    "feed_dumps": "Chaque notice en JSON-LD, Turtle, N-Triples ou RDF/XML à sa propre adresse "
                  "(négociation de contenu ou ?format=) ; les exploitants produisent des "
                  "exports complets avec « eduxchange export ».",
    "feed_vocab": "Les schémas de concepts SKOS d’où viennent types, niveaux et disciplines.",
    "dumps": "Notices et exports", "vocabularies": "Vocabulaires",
    "change_feed": "Flux des changements",
    "search_label": "Rechercher dans le catalogue", "search_button": "Rechercher",
    "language_label": "Langue de l’interface",
    "home": "Accueil",
    "description": "Description",
    "open_resource": "Ouvrir la ressource",
    "licence": "Licence", "no_licence": "Aucune licence indiquée",
    "in_language": "Langue de la ressource",
    "levels": "Niveau d’études", "types": "Type de ressource", "subjects": "Discipline",
    "audience": "Public", "keywords": "Mots-clés", "authors": "Auteurs",
    "publisher": "Éditeur", "details": "À propos de cette ressource",
    "provenance_heading": "D’où vient cette description",
    "changed": "modifiée le {date}",
    "getrecord": "Métadonnées d’origine (GetRecord)",
    "as_data": "Cette notice en données",
    "member_title": "Membre {name}",
    "endpoint": "Point d’accès OAI-PMH", "last_error": "Dernière erreur",
    "harvested_records": "Notices moissonnées", "deleted_records": "Supprimées chez le membre",
    "quarantined": "Notices en quarantaine", "catalogue_records": "Notices du catalogue",
    "browse_records": "Ses notices : ensemble OAI-PMH {set}",
    "quality_report": "Rapport de qualité",
    "report_pending": "Le rapport de qualité de ce membre n’est pas encore disponible.",
    "no_members": "Aucun membre n’est configuré.",
    "footer": "Servi par eduxchange. La licence de chaque notice figure sur sa page.",
}

_ES = {
    "list_separator": ", ",
    "site_title": "Catálogo de recursos educativos abiertos",
    "tagline": "Los recursos educativos abiertos de los miembros de la alianza: recolectados "
               "por OAI-PMH, reunidos en un catálogo y republicados para personas y máquinas.",
    "resources": "recursos", "members": "miembros", "languages": "idiomas",
    "licences": "licencias",
    "members_heading": "Miembros",
    "member": "Miembro", "country": "País", "last_harvest": "Última recolección",
    "state": "Estado", "records": "Registros",
    "state_ok": "correcto", "state_failed": "con error", "state_never": "nunca recolectado",
    "feeds_heading": "Para máquinas: canales y volcados",
    "feed_oai": "Recolecte todo el catálogo (oai_dc, LOM, RDF) con cualquier recolector "
                "OAI-PMH; conjuntos por miembro, idioma y tipo de recurso.",
    "feed_changes": "Canal de cambios Activity Streams 2.0: lea la página más reciente y "
                    "retroceda para seguir cada alta, cambio y baja.",
    "feed_dumps": "Cada registro en JSON-LD, Turtle, N-Triples o RDF/XML en su propia "
                  "dirección (negociación de contenido o ?format=); los operadores generan "
                  "volcados completos con «eduxchange export».",
    "feed_vocab": "Los esquemas de conceptos SKOS de los que provienen tipos, niveles y "
                  "materias.",
    "dumps": "Registros y volcados", "vocabularies": "Vocabularios",
    "change_feed": "Canal de cambios",
    "search_label": "Buscar en el catálogo", "search_button": "Buscar",
    "language_label": "Idioma de la interfaz",
    "home": "Inicio",
    "description": "Descripción",
    "open_resource": "Abrir el recurso",
    "licence": "Licencia", "no_licence": "No se indica licencia",
    "in_language": "Idioma del recurso",
    "levels": "Nivel educativo", "types": "Tipo de recurso", "subjects": "Materia",
    "audience": "Destinatarios", "keywords": "Palabras clave", "authors": "Autores",
    "publisher": "Editor", "details": "Sobre este recurso",
    "provenance_heading": "De dónde procede esta descripción",
    "changed": "modificada el {date}",
    "getrecord": "Metadatos originales (GetRecord)",
    "as_data": "Este registro como datos",
    "member_title": "Miembro {name}",
    "endpoint": "Punto de acceso OAI-PMH", "last_error": "Último error",
    "harvested_records": "Registros recolectados", "deleted_records": "Eliminados en el miembro",
    "quarantined": "Registros en cuarentena", "catalogue_records": "Registros del catálogo",
    "browse_records": "Sus registros: conjunto OAI-PMH {set}",
    "quality_report": "Informe de calidad",
    "report_pending": "El informe de calidad de este miembro aún no está disponible.",
    "no_members": "No hay miembros configurados.",
    "footer": "Servido por eduxchange. La licencia de cada registro figura en su página.",
}

_RU = {
    "list_separator": ", ",
    "site_title": "Каталог открытых образовательных ресурсов",
    "tagline": "Открытые образовательные ресурсы участников альянса: собраны по OAI-PMH, "
               "объединены в один каталог и опубликованы для людей и машин.",
    "resources": "ресурсов", "members": "участников", "languages": "языков",
    "licences": "лицензий",
    "members_heading": "Участники",
    "member": "Участник", "country": "Страна", "last_harvest": "Последний сбор",
    "state": "Состояние", "records": "Записи",
    "state_ok": "в порядке", "state_failed": "ошибка", "state_never": "ещё не собирался",
    "feeds_heading": "Для машин: потоки и выгрузки",
    "feed_oai": "Соберите весь каталог (oai_dc, LOM, RDF) любым OAI-PMH-сборщиком; "
                "наборы по участнику, языку и типу ресурса.",
    "feed_changes": "Поток изменений Activity Streams 2.0: прочитайте новейшую страницу и "
                    "идите назад, чтобы узнать о каждом создании, изменении и удалении.",
    "feed_dumps": "Каждая запись в JSON-LD, Turtle, N-Triples или RDF/XML по своему адресу "
                  "(согласование содержимого или ?format=); полные выгрузки операторы делают "
                  "командой «eduxchange export».",
    "feed_vocab": "Схемы понятий SKOS, из которых берутся типы, уровни и предметы.",
    "dumps": "Записи и выгрузки", "vocabularies": "Словари", "change_feed": "Поток изменений",
    "search_label": "Поиск по каталогу", "search_button": "Найти",
    "language_label": "Язык интерфейса",
    "home": "Главная",
    "description": "Описание",
    "open_resource": "Открыть ресурс",
    "licence": "Лицензия", "no_licence": "Лицензия не указана",
    "in_language": "Язык ресурса",
    "levels": "Уровень образования", "types": "Тип ресурса", "subjects": "Предмет",
    "audience": "Аудитория", "keywords": "Ключевые слова", "authors": "Авторы",
    "publisher": "Издатель", "details": "Об этом ресурсе",
    "provenance_heading": "Откуда это описание",
    "changed": "изменено {date}",
    "getrecord": "Исходные метаданные (GetRecord)",
    "as_data": "Эта запись как данные",
    "member_title": "Участник {name}",
    "endpoint": "Точка доступа OAI-PMH", "last_error": "Последняя ошибка",
    "harvested_records": "Собрано записей", "deleted_records": "Удалено у участника",
    "quarantined": "Записи в карантине", "catalogue_records": "Записи каталога",
    "browse_records": "Его записи: набор OAI-PMH {set}",
    "quality_report": "Отчёт о качестве",
    "report_pending": "Отчёт о качестве для этого участника пока недоступен.",
    "no_members": "Участники не настроены.",
    "footer": "Работает на eduxchange. Лицензия каждой записи указана на её странице.",
}

_ZH = {
    "list_separator": "、",
    "site_title": "开放教育资源目录",
    "tagline": "联盟成员的开放教育资源：通过 OAI-PMH 采集，合并为一个目录，并面向人和机器重新发布。",
    "resources": "资源", "members": "成员", "languages": "语言", "licences": "许可协议",
    "members_heading": "成员",
    "member": "成员", "country": "国家", "last_harvest": "最近采集", "state": "状态",
    "records": "记录",
    "state_ok": "正常", "state_failed": "失败", "state_never": "从未采集",
    "feeds_heading": "面向机器：数据流与导出",
    "feed_oai": "用任何 OAI-PMH 采集器采集整个目录（oai_dc、LOM、RDF）；可按成员、语言和资源类型分集。",
    "feed_changes": "Activity Streams 2.0 变更流：读取最新一页并向前翻阅，即可跟上每一次新增、更新和删除。",
    "feed_dumps": "每条记录在其自己的地址提供 JSON-LD、Turtle、N-Triples 或 RDF/XML（内容协商或 ?format=）；"
                  "运营者用“eduxchange export”生成完整导出。",
    "feed_vocab": "所有类型、层次和学科所依据的 SKOS 概念体系。",
    "dumps": "记录与导出", "vocabularies": "词表", "change_feed": "变更流",
    "search_label": "搜索目录", "search_button": "搜索",
    "language_label": "界面语言",
    "home": "首页",
    "description": "简介",
    "open_resource": "打开资源",
    "licence": "许可协议", "no_licence": "未注明许可协议",
    "in_language": "资源语言",
    "levels": "教育层次", "types": "资源类型", "subjects": "学科",
    "audience": "对象", "keywords": "关键词", "authors": "作者",
    "publisher": "出版者", "details": "关于此资源",
    "provenance_heading": "此描述的来源",
    "changed": "修改于 {date}",
    "getrecord": "原始元数据（GetRecord）",
    "as_data": "此记录的数据格式",
    "member_title": "成员 {name}",
    "endpoint": "OAI-PMH 接口", "last_error": "最近错误",
    "harvested_records": "已采集记录", "deleted_records": "成员已删除",
    "quarantined": "隔离的记录", "catalogue_records": "目录记录",
    "browse_records": "其记录：OAI-PMH 集合 {set}",
    "quality_report": "质量报告",
    "report_pending": "该成员的质量报告尚不可用。",
    "no_members": "尚未配置成员。",
    "footer": "由 eduxchange 提供。每条记录的许可协议见其页面。",
}

_AR = {
    "list_separator": "، ",
    "site_title": "فهرس الموارد التعليمية المفتوحة",
    "tagline": "الموارد التعليمية المفتوحة لأعضاء التحالف: تُجمع عبر OAI-PMH، وتُدمج في فهرس "
               "واحد، ويُعاد نشرها للناس وللآلات.",
    "resources": "مورد", "members": "عضو", "languages": "لغة", "licences": "ترخيص",
    "members_heading": "الأعضاء",
    "member": "العضو", "country": "البلد", "last_harvest": "آخر جمع", "state": "الحالة",
    "records": "السجلات",
    "state_ok": "سليم", "state_failed": "فشل", "state_never": "لم يُجمع بعد",
    "feeds_heading": "للآلات: التغذيات والتفريغات",
    "feed_oai": "اجمع الفهرس كله (oai_dc وLOM وRDF) بأي أداة جمع OAI-PMH؛ مجموعات حسب العضو "
                "واللغة ونوع المورد.",
    "feed_changes": "تغذية التغييرات بصيغة Activity Streams 2.0: اقرأ أحدث صفحة ثم ارجع إلى "
                    "الوراء لمتابعة كل إنشاء وتحديث وحذف.",
    "feed_dumps": "كل سجل بصيغة JSON-LD أو Turtle أو N-Triples أو RDF/XML في عنوانه الخاص "
                  "(بالتفاوض على المحتوى أو ?format=)؛ ويكتب المشغّلون تفريغات كاملة بالأمر "
                  "«eduxchange export».",
    "feed_vocab": "مخططات مفاهيم SKOS التي تأتي منها الأنواع والمستويات والمواد.",
    "dumps": "السجلات والتفريغات", "vocabularies": "المفردات", "change_feed": "تغذية التغييرات",
    "search_label": "ابحث في الفهرس", "search_button": "بحث",
    "language_label": "لغة الواجهة",
    "home": "الرئيسية",
    "description": "الوصف",
    "open_resource": "افتح المورد",
    "licence": "الترخيص", "no_licence": "لم يُذكر ترخيص",
    "in_language": "لغة المورد",
    "levels": "المستوى التعليمي", "types": "نوع المورد", "subjects": "المادة",
    "audience": "الجمهور", "keywords": "كلمات مفتاحية", "authors": "المؤلفون",
    "publisher": "الناشر", "details": "عن هذا المورد",
    "provenance_heading": "مصدر هذا الوصف",
    "changed": "عُدّل في {date}",
    "getrecord": "البيانات الوصفية الأصلية (GetRecord)",
    "as_data": "هذا السجل كبيانات",
    "member_title": "العضو {name}",
    "endpoint": "نقطة وصول OAI-PMH", "last_error": "آخر خطأ",
    "harvested_records": "السجلات المجموعة", "deleted_records": "محذوفة لدى العضو",
    "quarantined": "سجلات في الحجر", "catalogue_records": "سجلات الفهرس",
    "browse_records": "سجلاته: مجموعة OAI-PMH {set}",
    "quality_report": "تقرير الجودة",
    "report_pending": "تقرير الجودة لهذا العضو غير متاح بعد.",
    "no_members": "لا يوجد أعضاء مهيَّؤون.",
    "footer": "يقدّمه eduxchange. ترخيص كل سجل مذكور في صفحته.",
}

_DE = {
    "list_separator": ", ",
    "site_title": "Katalog offener Bildungsressourcen",
    "tagline": "Offene Bildungsressourcen der Mitglieder des Verbunds: per OAI-PMH geerntet, "
               "in einem Katalog zusammengeführt und für Menschen und Maschinen neu "
               "veröffentlicht.",
    "resources": "Ressourcen", "members": "Mitglieder", "languages": "Sprachen",
    "licences": "Lizenzen",
    "members_heading": "Mitglieder",
    "member": "Mitglied", "country": "Land", "last_harvest": "Letzte Ernte",
    "state": "Zustand", "records": "Datensätze",
    "state_ok": "in Ordnung", "state_failed": "fehlgeschlagen", "state_never": "noch nie geerntet",
    "feeds_heading": "Für Maschinen: Feeds und Abzüge",
    "feed_oai": "Den ganzen Katalog (oai_dc, LOM, RDF) mit jedem OAI-PMH-Harvester ernten; "
                "Sets nach Mitglied, Sprache und Ressourcentyp.",
    "feed_changes": "Änderungsfeed (Activity Streams 2.0): die neueste Seite lesen und "
                    "zurückgehen, um jede Neuanlage, Änderung und Löschung nachzuholen.",
    "feed_dumps": "Jeder Datensatz als JSON-LD, Turtle, N-Triples oder RDF/XML unter seiner "
                  "eigenen Adresse (Content Negotiation oder ?format=); vollständige Abzüge "
                  "schreibt der Betrieb mit „eduxchange export“.",
    "feed_vocab": "Die SKOS-Begriffsschemata, aus denen Typen, Stufen und Fächer stammen.",
    "dumps": "Datensätze und Abzüge", "vocabularies": "Vokabulare",
    "change_feed": "Änderungsfeed",
    "search_label": "Im Katalog suchen", "search_button": "Suchen",
    "language_label": "Sprache der Oberfläche",
    "home": "Start",
    "description": "Beschreibung",
    "open_resource": "Zur Ressource",
    "licence": "Lizenz", "no_licence": "Keine Lizenz angegeben",
    "in_language": "Sprache der Ressource",
    "levels": "Bildungsstufe", "types": "Ressourcentyp", "subjects": "Fach",
    "audience": "Zielgruppe", "keywords": "Schlagwörter", "authors": "Autorinnen und Autoren",
    "publisher": "Verlag", "details": "Über diese Ressource",
    "provenance_heading": "Woher diese Beschreibung stammt",
    "changed": "geändert am {date}",
    "getrecord": "Ursprüngliche Metadaten (GetRecord)",
    "as_data": "Dieser Datensatz als Daten",
    "member_title": "Mitglied {name}",
    "endpoint": "OAI-PMH-Schnittstelle", "last_error": "Letzter Fehler",
    "harvested_records": "Geerntete Datensätze", "deleted_records": "Beim Mitglied gelöscht",
    "quarantined": "Datensätze in Quarantäne", "catalogue_records": "Katalogdatensätze",
    "browse_records": "Seine Datensätze: OAI-PMH-Set {set}",
    "quality_report": "Qualitätsbericht",
    "report_pending": "Der Qualitätsbericht dieses Mitglieds ist noch nicht verfügbar.",
    "no_members": "Es sind keine Mitglieder konfiguriert.",
    "footer": "Bereitgestellt von eduxchange. Die Lizenz jedes Datensatzes steht auf seiner "
              "Seite.",
}

# The search page (/search): added to each language's table.
_EN.update({
    "search_title": "Search", "results_count": "{count} resources found",
    "no_results": "No resource matches this search. Try other or fewer words, or remove a filter.",
    "refine_heading": "Refine", "clear_filters": "Remove all filters",
    "remove_filter": "remove this filter", "pagination_label": "Result pages",
    "prev_page": "Previous", "next_page": "Next", "page_of": "Page {page} of {pages}",
})
_FR.update({
    "search_title": "Recherche", "results_count": "{count} ressources trouvées",
    "no_results": "Aucune ressource ne correspond à cette recherche. Essayez d’autres mots, "
                  "moins de mots, ou retirez un filtre.",
    "refine_heading": "Affiner", "clear_filters": "Retirer tous les filtres",
    "remove_filter": "retirer ce filtre", "pagination_label": "Pages de résultats",
    "prev_page": "Précédente", "next_page": "Suivante", "page_of": "Page {page} sur {pages}",
})
_ES.update({
    "search_title": "Búsqueda", "results_count": "{count} recursos encontrados",
    "no_results": "Ningún recurso coincide con esta búsqueda. Pruebe con otras palabras, con "
                  "menos palabras o quite un filtro.",
    "refine_heading": "Refinar", "clear_filters": "Quitar todos los filtros",
    "remove_filter": "quitar este filtro", "pagination_label": "Páginas de resultados",
    "prev_page": "Anterior", "next_page": "Siguiente", "page_of": "Página {page} de {pages}",
})
_RU.update({
    "search_title": "Поиск", "results_count": "Найдено ресурсов: {count}",
    "no_results": "Ни один ресурс не соответствует запросу. Попробуйте другие слова, меньше "
                  "слов или уберите фильтр.",
    "refine_heading": "Уточнить", "clear_filters": "Убрать все фильтры",
    "remove_filter": "убрать этот фильтр", "pagination_label": "Страницы результатов",
    "prev_page": "Назад", "next_page": "Далее", "page_of": "Страница {page} из {pages}",
})
_ZH.update({
    "search_title": "搜索", "results_count": "找到 {count} 个资源",
    "no_results": "没有与此搜索匹配的资源。请尝试其他或更少的词语，或移除筛选条件。",
    "refine_heading": "筛选", "clear_filters": "移除所有筛选条件",
    "remove_filter": "移除此筛选条件", "pagination_label": "结果页",
    "prev_page": "上一页", "next_page": "下一页", "page_of": "第 {page} 页，共 {pages} 页",
})
_AR.update({
    "search_title": "البحث", "results_count": "عدد الموارد التي وُجدت: {count}",
    "no_results": "لا يوجد مورد يطابق هذا البحث. جرّب كلمات أخرى أو أقل، أو أزل أحد المرشّحات.",
    "refine_heading": "تضييق النتائج", "clear_filters": "إزالة كل المرشّحات",
    "remove_filter": "إزالة هذا المرشّح", "pagination_label": "صفحات النتائج",
    "prev_page": "السابقة", "next_page": "التالية", "page_of": "الصفحة {page} من {pages}",
})
_DE.update({
    "search_title": "Suche", "results_count": "{count} Ressourcen gefunden",
    "no_results": "Keine Ressource passt zu dieser Suche. Versuchen Sie andere oder weniger "
                  "Wörter, oder entfernen Sie einen Filter.",
    "refine_heading": "Eingrenzen", "clear_filters": "Alle Filter entfernen",
    "remove_filter": "diesen Filter entfernen", "pagination_label": "Ergebnisseiten",
    "prev_page": "Zurück", "next_page": "Weiter", "page_of": "Seite {page} von {pages}",
})

#: Interface text by language and key.
MESSAGES: Final[Mapping[str, Mapping[str, str]]] = MappingProxyType({
    "en": MappingProxyType(_EN), "fr": MappingProxyType(_FR), "es": MappingProxyType(_ES),
    "ru": MappingProxyType(_RU), "zh": MappingProxyType(_ZH), "ar": MappingProxyType(_AR),
    "de": MappingProxyType(_DE),
})
