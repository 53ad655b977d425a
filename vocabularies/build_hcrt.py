"""Build ``hcrt.ttl``: the Higher Education Resource Types (HCRT) as SKOS, from the facts below.

Standard library only. HCRT is DINI-AG KIM's value list of learning resource types
(https://w3id.org/kim/hcrt/scheme, dini-ag-kim/hcrt, CC0 1.0), used by OERSI and the AMB profile.
The facts taken from it are the concept IRIs (``https://w3id.org/kim/hcrt/{name}``), the scheme
IRI, its flat structure (every concept a top concept) and the ``en``, ``de`` and ``fr`` labels,
as published (one trailing space removed from the French "Audio"). The ``ar``, ``zh``, ``ru`` and
``es`` labels are eduxchange's translations, kept here (:data:`CONCEPTS`), so that every concept
has a label in the six UN languages and German like the project's other schemes. The Dutch,
Ukrainian, Czech and Swedish labels of the source are not shipped (the catalogue's languages are
the UN six and German).

Regenerate (from the repository root)::

    python vocabularies/build_hcrt.py -o vocabularies/hcrt.ttl

The output is deterministic; commit the script and the ``.ttl`` together.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["CONCEPTS", "LANGUAGES", "NAMESPACE", "SCHEME", "build", "main"]

NAMESPACE = "https://w3id.org/kim/hcrt/"
SCHEME = NAMESPACE + "scheme"
LANGUAGES = ("en", "de", "fr", "ar", "zh", "ru", "es")

#: Local name -> labels in :data:`LANGUAGES` order (en, de, fr: HCRT's; ar, zh, ru, es: ours).
CONCEPTS: dict[str, tuple[str, str, str, str, str, str, str]] = {
    "application": ("Software Application", "Softwareanwendung", "Application logicielle",
                    "تطبيق برمجي", "软件应用", "Программное приложение", "Aplicación de software"),
    "assessment": ("Assessment", "Lernkontrolle", "Contrôle d’apprentissage",
                   "تقييم التعلم", "学习评估", "Контроль знаний", "Evaluación del aprendizaje"),
    "audio": ("Audio Recording", "Audio", "Audio",
              "تسجيل صوتي", "音频录音", "Аудиозапись", "Grabación de audio"),
    "case_study": ("Case Study", "Fallstudie", "Étude de cas",
                   "دراسة حالة", "案例研究", "Разбор практического случая", "Estudio de caso"),
    "course": ("Course", "Kurs", "Cours", "مقرر دراسي", "课程", "Курс", "Curso"),
    "data": ("Data", "Daten", "Données", "بيانات", "数据", "Данные", "Datos"),
    "diagram": ("Diagram", "Diagramm", "Diagramme", "مخطط", "图表", "Диаграмма", "Diagrama"),
    "drill_and_practice": ("Drill and Practice", "Übung", "Exercice",
                           "تمارين وتدريب", "练习", "Упражнения", "Ejercicios y práctica"),
    "educational_game": ("Game", "Lernspiel", "Jeu éducatif",
                         "لعبة تعليمية", "教育游戏", "Обучающая игра", "Juego educativo"),
    "experiment": ("Experiment", "Experiment", "Expérience",
                   "تجربة", "实验", "Эксперимент", "Experimento"),
    "image": ("Image", "Abbildung", "Illustration", "صورة", "图像", "Изображение", "Imagen"),
    "index": ("Reference Work", "Nachschlagewerk", "Ouvrage de référence",
              "عمل مرجعي", "参考工具书", "Справочное издание", "Obra de referencia"),
    "lesson_plan": ("Lesson Plan", "Unterrichtsplanung", "Plan de cours",
                    "خطة درس", "教案", "План урока", "Plan de clase"),
    "map": ("Map", "Karte", "Carte", "خريطة", "地图", "Карта", "Mapa"),
    "portal": ("Web Portal", "Portal", "Portail", "بوابة إلكترونية", "门户网站", "Веб-портал",
               "Portal web"),
    "questionnaire": ("Questionnaire", "Fragebogen", "Questionnaire",
                      "استبيان", "问卷", "Анкета", "Cuestionario"),
    # A "Skript" in German higher education: the lecture notes of a course.
    "script": ("Script", "Skript", "Script", "مذكرات المحاضرة", "讲义", "Конспект лекций",
               "Apuntes"),
    "sheet_music": ("Sheet Music", "Musiknoten", "Partition de musique",
                    "نوتة موسيقية", "乐谱", "Ноты", "Partitura"),
    "simulation": ("Simulation", "Simulation", "Simulation",
                   "محاكاة", "模拟", "Симуляция", "Simulación"),
    "slide": ("Presentation", "Präsentation", "Présentation",
              "عرض تقديمي", "演示文稿", "Презентация", "Presentación"),
    "text": ("Text", "Textdokument", "Document texte",
             "مستند نصي", "文本文档", "Текстовый документ", "Documento de texto"),
    "textbook": ("Textbook", "Lehrbuch", "Manuel", "كتاب مدرسي", "教科书", "Учебник",
                 "Libro de texto"),
    "video": ("Video", "Video", "Vidéo", "فيديو", "视频", "Видео", "Vídeo"),
    "web_page": ("Web Page", "Webseite", "Site web", "صفحة ويب", "网页", "Веб-страница",
                 "Página web"),
    "worksheet": ("Worksheet", "Arbeitsmaterial", "Matériel de travail",
                  "ورقة عمل", "学习任务单", "Рабочий материал", "Hoja de trabajo"),
    "other": ("Other", "Sonstiges", "Divers", "أخرى", "其他", "Другое", "Otro"),
}

TITLES = (("Higher Education Resource Types", "en"), ("Hochschulcampus Ressourcentypen", "de"))


def _literal(text: str, lang: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"@{lang}'


def build() -> str:
    """The Turtle text of the scheme (deterministic)."""
    lines = [
        "# GENERATED by vocabularies/build_hcrt.py: edit the script, not this file.",
        "# Higher Education Resource Types (HCRT), https://w3id.org/kim/hcrt/scheme, by DINI-AG KIM",
        "# (dini-ag-kim/hcrt, CC0 1.0): concept IRIs, structure and en/de/fr labels as published;",
        "# ar, zh, ru, es labels are eduxchange's (see vocabularies/README.md).",
        "",
        "@prefix dct: <http://purl.org/dc/terms/> .",
        "@prefix hcrt: <https://w3id.org/kim/hcrt/> .",
        "@prefix skos: <http://www.w3.org/2004/02/skos/core#> .",
        "@prefix vann: <http://purl.org/vocab/vann/> .",
        "",
        f"<{SCHEME}> a skos:ConceptScheme ;",
        "    dct:title " + ", ".join(_literal(t, lang) for t, lang in TITLES) + " ;",
        "    dct:license <http://creativecommons.org/publicdomain/zero/1.0/> ;",
        f'    vann:preferredNamespaceUri "{NAMESPACE}" ;',
        "    skos:hasTopConcept " + ", ".join(f"hcrt:{name}" for name in CONCEPTS) + " .",
    ]
    for name, labels in CONCEPTS.items():
        lines += [
            "",
            f"hcrt:{name} a skos:Concept ;",
            "    skos:prefLabel " + ", ".join(
                _literal(label, lang) for label, lang in zip(labels, LANGUAGES, strict=True)) + " ;",
            f"    skos:inScheme <{SCHEME}> ;",
            f"    skos:topConceptOf <{SCHEME}> .",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command line: ``build_hcrt.py [-o OUTPUT]`` (stdout by default)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    args = parser.parse_args(argv)
    turtle = build()
    if args.output:
        args.output.write_text(turtle, encoding="utf-8")
    else:
        sys.stdout.write(turtle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
