"""Typical age ranges: what members write to ``"9-11"`` or the open-ended ``"14-"`` (schema.org).

``typicalAgeRange`` is free text in LOM (a LangString, IEEE 1484.12.1 5.7), LRMI and DC
(``dcterms:audience`` notes), and real records write it every way: ``14-100``, ``18 - 80``,
``>15``, ``17-``, ``A partir de 14 anos.``, ``16 em diante``, ``13 a 25 anos``, ``18 años en
adelante``, ``Ensino Fundamental``, ``adulto``. The rules, so that nothing is invented:

* the whole value must be one of the shapes below (a number alone, a closed range, an open
  range "from N"), in English, French, Spanish, Russian, Chinese, Arabic (the six UN languages),
  German or Portuguese, with an optional "age:" label and unit word ("anos", "ans", "Jahre",
  "лет", "岁", "سنة", ...). Anything else (school years such as ``1 ano ensino médio``, levels
  such as ``Ensino médio`` or ``adulto``, ordinals, junk) is no age range: ``None``;
* numbers are read whole, in any script's digits (``١٤`` is 14): ``14-100`` stays ``14-100``;
* "from N", "N and over", "over N", "N+", ``>N``, "a partir de N", "N em diante", "N en
  adelante", "ab N", "от N", "N岁以上", "N فما فوق", a minimum or initial age ("Inicial 17
  anos", "idade mínima 12 anos", "Mindestalter 12") are the open range ``N-`` ("over 18" is
  read as the "18+" of age labels, not as 19);
* a range must run forwards (``10-5`` is refused, not swapped) and a bound be a human age:
  a lower bound (or a single age) up to 99, an upper bound up to 120 (``14-100``, "and older",
  is real; ``100`` alone or ``1990-2000`` is no age).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = ["MAX_LOW", "MAX_HIGH", "age_range", "span", "bounds"]

#: The highest lower bound (or single age) and the highest upper bound accepted.
MAX_LOW = 99
MAX_HIGH = 120

_N = r"(\d{1,3})"
# Unit words after a number (years / years old), per language.
_UNIT = (r"(?:\s*(?:years?(?:\s+old)?|yrs?\.?|y\.?o\.?|y|anos?|años?|ans?|jahren?|jahre|j\.?|"
         r"лет|года?|г\.?|岁|周岁|歲|سنة|سنوات|عام|أعوام|عاما|عامًا))?")
# An optional label before the value ("Ages:", "Idade", "Alter", "Возраст", "年龄", "العمر").
_LABEL = (r"(?:(?:typical\s+)?(?:age\s+range|ages?|aged|faixa\s+et[aá]ria|idades?|edad(?:es)?|"
          r"rango\s+de\s+edad|[aâ]ges?|tranche\s+d['’]âge|alter(?:sgruppe)?|возраст|年龄|年齡|"
          r"العمر|الفئة\s+العمرية)\s*:?\s*)?")
# Words that may open a closed range ("from 7 to 10", "de 7 a 10", "entre 7 e 10", "von 7 bis 10").
_FROM = r"(?:(?:from|between|de|dos|des|del|desde|entre|von|zwischen|от|с|从|من|بين)\s*)?"
_TO = (r"(?:-|–|—|~|to|and|a|à|au|até|ate|e|y|et|hasta|bis|und|до|по|至|到|إلى|الى|و)")
_CLOSED = re.compile(rf"{_LABEL}{_FROM}{_N}{_UNIT}\s*{_TO}\s*{_N}{_UNIT}")
# Open ranges: a lead phrase before the number, or a trail phrase after it.
_OPEN_LEAD = re.compile(
    rf"{_LABEL}(?:>=?|≥|from|over|above|older\s+than|at\s+least|minimum(?:\s+age)?|"
    r"(?:idade\s+)?(?:inicial|m[ií]nima)|edad\s+m[ií]nima|[aâ]ge\s+minimum|mindestalter|"
    r"a\s+partir\s+d[eoa]s?|"
    r"acima\s+d[eoa]s?|mais\s+de|maiores\s+de|mayores\s+de|m[aá]s\s+de|desde|[àa]\s+partir\s+de|"
    r"d[eè]s|plus\s+de|ab|[uü]ber|älter\s+als|от|с|старше|من|أكثر\s+من|فوق)\s*"
    rf"{_N}{_UNIT}(?:\s*(?:and\s+(?:up|over|older)|em\s+diante|en\s+adelante|ou\s+mais|o\s+m[aá]s|"
    r"et\s+plus|ou\s+plus|und\s+(?:älter|mehr)|и\s+старше|فما\s+فوق|وما\s+فوق|فأكثر))?")
_OPEN_TRAIL = re.compile(
    rf"{_LABEL}{_N}{_UNIT}\s*(?:\+|-|–|and\s+(?:up|over|older|above)|or\s+(?:older|over|more)|"
    r"plus|em\s+diante|em\s+frente|ou\s+mais|en\s+adelante|o\s+m[aá]s|y\s+m[aá]s|et\s+plus|"
    r"ou\s+plus|und\s+(?:älter|mehr|darüber)|и\s+старше|и\s+более|以上|及以上|岁以上|فما\s+فوق|"
    r"وما\s+فوق|فأكثر)(?:\s*" + _UNIT.removeprefix("(?:").removesuffix(")?") + r")?")
_SINGLE = re.compile(rf"{_LABEL}{_N}{_UNIT}")
_STRIP = " .;:,()[]\u3002"


def _int(text: str) -> int:
    return int(text)  # int() reads every script's decimal digits (Unicode Nd)


@lru_cache(maxsize=2048)
def age_range(value: str) -> str | None:
    """``"9-11"``, ``"14-"`` or ``"7-7"`` from one source value, or ``None`` (module docstring).

    >>> [age_range(v) for v in ("14-100", "A partir de 14 anos.", ">15", "1 ano ensino médio")]
    ['14-100', '14-', '15-', None]
    """
    text = " ".join(value.split()).strip(_STRIP).lower()
    if not text or len(text) > 80:
        return None
    match = _CLOSED.fullmatch(text)
    if match:
        low, high = _int(match.group(1)), _int(match.group(2))
        return f"{low}-{high}" if low <= high and low <= MAX_LOW and high <= MAX_HIGH else None
    match = _OPEN_LEAD.fullmatch(text) or _OPEN_TRAIL.fullmatch(text)
    if match:
        low = _int(match.group(1))
        return f"{low}-" if low <= MAX_LOW else None
    match = _SINGLE.fullmatch(text)
    if match:
        age = _int(match.group(1))
        return f"{age}-{age}" if age <= MAX_LOW else None
    return None


def bounds(normalized: str) -> tuple[int, int | None]:
    """``(low, high)`` of a normalised range (``high`` is ``None`` when open)."""
    low, _, high = normalized.partition("-")
    return int(low), (int(high) if high else None)


def span(ranges: Iterable[str]) -> str | None:
    """The range spanning several normalised ranges (``"2-5"``, ``"5-8"`` -> ``"2-8"``);
    an open one keeps it open."""
    found = [bounds(r) for r in ranges]
    if not found:
        return None
    low = min(b[0] for b in found)
    highs = [b[1] for b in found]
    if any(h is None for h in highs):
        return f"{low}-"
    return f"{low}-{max(h for h in highs if h is not None)}"
