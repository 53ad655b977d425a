"""Dates and durations of resources to ISO 8601 (docs/record.md ``dateCreated``, ``duration``).

Not to be confused with :mod:`eduxchange.core.dates`, which handles OAI-PMH datestamps.

Dates keep the precision the source gives: ``2004``, ``2004-05``, ``2004-05-17``, or a date-time
with its zone, ``2004-05-17T10:00:00Z`` / ``2004-05-17T10:00:00-05:00`` (seconds always written,
fractions dropped, ``+00:00`` written ``Z``). Policies:

* A time without a zone (``2004-05-17 10:00``) cannot be placed on the time line, and
  inventing UTC would move it by hours: such values keep their date only (``2004-05-17``).
* All-numeric dates with the year last are read day first (``17/05/2004``, ``05.04.2004``,
  ``7-5-2004``): the European and Québécois members write them so. ``05/17/2004`` has no month
  17 and gives ``None`` rather than a guess.
* Years outside 1000-2999 are placeholders (``0000``, ``9999-12-31``) and give ``None``.
* Month names are read in English, French, German, Spanish, Italian, Portuguese, Dutch and
  Russian (``May 2004``, ``17 mai 2004``, ``17. März 2004``, ``17 de mayo de 2004``), and CJK
  dates as ``2004年5月17日``.

Durations become ``P[nY][nM][nD][T[nH][nM][nS]]``: zero parts dropped, seconds carried into
minutes and minutes into hours (``PT90M`` -> ``PT1H30M``) but hours never into days (a day is
not always 24 hours), weeks written as days (``P2W`` -> ``P14D``), seconds rounded to whole
seconds. A zero duration (LOM's ``PT0H0M0S`` placeholder) gives ``None``. Free text is read
as number-unit pairs in the languages above plus Chinese and Arabic (``90 min``, ``1h30``,
``1,5 Stunden``, ``45 Minuten``, ``2 hours``); clock forms ``1:30:00`` are H:MM:SS and ``1:30``
is H:MM (learning times, not track lengths, are what members write that way).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from functools import lru_cache

__all__ = ["normalize_date", "normalize_duration"]

_MIN_YEAR, _MAX_YEAR = 1000, 2999


def _fold(text: str) -> str:
    """Case-fold and strip accents (``Févr.`` -> ``fevr.``) so that tables stay small."""
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


_ZONE = r"(?P<z>[Zz]|[+-]\d{2}(?::?\d{2})?)"
_TIME = rf"(?P<H>\d{{1,2}}):(?P<M>\d{{2}})(?::(?P<S>\d{{2}})(?:[.,]\d+)?)?\s*{_ZONE}?"
_ISO = re.compile(
    rf"(?P<y>\d{{4}})(?:(?P<sep>[-./])(?P<m>\d{{1,2}})(?:(?P=sep)(?P<d>\d{{1,2}})"
    rf"(?:(?:[Tt]|\s+){_TIME}|\s*(?:[Zz]|[+-]\d{{2}}:\d{{2}}))?)?)?"
)
_BASIC = re.compile(
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
    r"(?:[Tt](?P<H>\d{2})(?P<M>\d{2})(?P<S>\d{2})?(?P<z>[Zz]|[+-]\d{2}(?:\d{2})?)?)?"
)
_DAY_FIRST = re.compile(
    rf"(?P<d>\d{{1,2}})(?P<sep>[-./])(?P<m>\d{{1,2}})(?P=sep)(?P<y>\d{{4}})(?:(?:[Tt]|\s+){_TIME})?"
)
_MONTH_YEAR = re.compile(r"(?P<m>\d{1,2})[-./](?P<y>\d{4})")
_CJK = re.compile(r"(?P<y>\d{4})\s*年\s*(?:(?P<m>\d{1,2})\s*月\s*(?:(?P<d>\d{1,2})\s*日)?)?")
_WORDS = re.compile(r"\d+(?::\d+)+|\d+|[^\W\d_]+")

#: Month names and abbreviations, accent-free and case-folded (see _fold).
_MONTHS: dict[str, int] = {}
for _month, _names in enumerate((
    "january jan janvier janv januar jan enero ene gennaio genn gen janeiro januari "
    "январь января янв",
    "february feb fevrier fevr fev februar feb febrero febbraio fevereiro februari "
    "февраль февраля фев",
    "march mar mars marz maerz marzo mar marco maart март марта",
    "april apr avril avr abril aprile apr aprile апрель апреля апр",
    "may mai mayo maggio mag maio mei май мая",
    "june jun juin juni junio giugno giu junho июнь июня",
    "july jul juillet juil juli julio luglio lug julho июль июля",
    "august aug aout august agosto ago augustus август августа авг",
    "september sep sept septembre septiembre setiembre settembre set setembro сентябрь "
    "сентября сен сент",
    "october oct octobre oktober okt octubre ottobre ott outubro out октябрь октября окт",
    "november nov novembre noviembre novembro ноябрь ноября ноя",
    "december dec decembre dezember dez diciembre dic dicembre dezembro desember "
    "декабрь декабря дек",
), start=1):
    for _name in _names.split():
        _MONTHS.setdefault(_fold(_name), _month)
#: Words that may surround a date and carry nothing: articles, weekdays, "of", "le", ...
_DATE_FILLERS = frozenset(_fold(w) for w in (
    "the of on le la el de del den am der di do th st nd rd er eme e "
    "monday tuesday wednesday thursday friday saturday sunday mon tue wed thu fri sat sun "
    "lundi mardi mercredi jeudi vendredi samedi dimanche "
    "montag dienstag mittwoch donnerstag freitag samstag sonntag "
    "lunes martes miercoles jueves viernes sabado domingo г").split())



@lru_cache(maxsize=8192)
def normalize_date(value: str) -> str | None:
    """Return ``value`` as an ISO 8601 date at the source's precision, or ``None``.

    >>> [normalize_date(v) for v in ("2004-5-7", "17/05/2004", "May 2004", "2004-05-17 10:00")]
    ['2004-05-07', '2004-05-17', '2004-05', '2004-05-17']
    >>> normalize_date("2010-09-09T08:16:14.0-05:00")
    '2010-09-09T08:16:14-05:00'
    """
    text = " ".join(value.split())
    if not text:
        return None
    for pattern in (_ISO, _BASIC, _DAY_FIRST, _MONTH_YEAR, _CJK):
        match = pattern.fullmatch(text)
        if match:
            parts = match.groupdict()
            return _format(parts["y"], parts.get("m"), parts.get("d"), parts.get("H"),
                           parts.get("M"), parts.get("S"), parts.get("z"))
    return _date_from_words(text)


def _format(year: str, month: str | None, day: str | None, hour: str | None = None,
            minute: str | None = None, second: str | None = None,
            zone: str | None = None) -> str | None:
    y = int(year)
    if not _MIN_YEAR <= y <= _MAX_YEAR:
        return None
    if month is None:
        return f"{y:04d}"
    m = int(month)
    if not 1 <= m <= 12:
        return None
    if day is None:
        return f"{y:04d}-{m:02d}"
    d = int(day)
    try:
        date(y, m, d)
    except ValueError:
        return None
    day_text = f"{y:04d}-{m:02d}-{d:02d}"
    if hour is None or minute is None or zone is None:
        return day_text  # no time, or a time without zone: the date is all we know
    h, mi, s = int(hour), int(minute), int(second or 0)
    offset = _zone(zone)
    if h > 23 or mi > 59 or s > 59 or offset is None:
        return None
    return f"{day_text}T{h:02d}:{mi:02d}:{s:02d}{offset}"


def _zone(zone: str) -> str | None:
    if zone in ("Z", "z"):
        return "Z"
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:] or 0)
    if hours > 14 or minutes > 59:
        return None
    if hours == minutes == 0:
        return "Z"
    return f"{zone[0]}{hours:02d}:{minutes:02d}"


def _date_from_words(text: str) -> str | None:
    year = month = day = None
    for word in _WORDS.findall(_fold(text)):
        if word.isdigit() and len(word) == 4 and year is None:
            year = word
        elif word.isdigit() and len(word) <= 2 and day is None:
            day = word
        elif word in _MONTHS and month is None:
            month = str(_MONTHS[word])
        elif ":" in word or word in _DATE_FILLERS:
            continue  # a time of day without zone is dropped, see the module docstring
        else:
            return None
    if year is None or month is None:
        return None
    return _format(year, month, day)


_DURATION = re.compile(
    r"P(?!$)(?:(?P<Y>\d{1,9})Y)?(?:(?P<Mo>\d{1,9})M)?(?:(?P<W>\d{1,9}(?:[.,]\d{1,9})?)W)?"
    r"(?:(?P<D>\d{1,9}(?:[.,]\d{1,9})?)D)?"
    r"(?:T(?=\d)(?:(?P<H>\d{1,9}(?:[.,]\d{1,9})?)H)?(?:(?P<M>\d{1,9}(?:[.,]\d{1,9})?)M)?"
    r"(?:(?P<S>\d{1,9}(?:[.,]\d{1,9})?)S)?)?",
    re.IGNORECASE,
)
_CLOCK = re.compile(r"(?P<H>\d{1,3}):(?P<M>[0-5]?\d)(?::(?P<S>[0-5]?\d(?:[.,]\d+)?))?")
_DURATION_WORDS = re.compile(r"\d{1,9}(?:[.,]\d{1,9})?|[^\W\d_]+")

#: Unit words (accent-free, case-folded) -> ISO 8601 designator; "Mo" is months.
_UNITS: dict[str, str] = {}
for _designator, _words in (
    ("S", "s sec secs second seconds seconde secondes sekunde sekunden segundo segundos secondo "
          "secondi seconden с сек секунда секунды секунд 秒 秒钟 ثانية ثوان ثواني"),
    ("M", "m mn min mins minute minutes minuten minuto minutos minuti minuut мин минута минуты "
          "минут 分 分钟 دقيقة دقائق"),
    ("H", "h hr hrs hour hours heure heures stunde stunden std hora horas ora ore uur ч час "
          "часа часов 小时 时 钟头 ساعة ساعات"),
    ("D", "d day days jour jours j tag tage tagen dia dias giorno giorni dag dagen день дня "
          "дней 天 日 يوم أيام ايام"),
    ("W", "w wk wks week weeks semaine semaines woche wochen semana semanas settimana "
          "settimane неделя недели недель 周 星期 أسبوع اسبوع أسابيع"),
    ("Mo", "month months mois monat monate monaten mes meses mese mesi maand maanden месяц "
           "месяца месяцев 个月 月 شهر أشهر"),
    ("Y", "yr yrs year years an ans annee annees jahr jahre jahren ano anos anno anni jaar "
          "jaren год года лет 年 سنة سنوات"),
):
    for _word in _words.split():
        _UNITS[_fold(_word)] = _designator
#: Words around a duration that carry nothing ("ca. 45 Minuten", "environ 2 heures").
_DURATION_FILLERS = frozenset(_fold(w) for w in (
    "ca circa approx approximately about around roughly environ etwa ungefähr rund cerca "
    "aprox aproximadamente and et und y e и und of de von duration durée dauer duración "
    "約 约 大约 حوالي").split())
_SMALLER = {"H": "M", "M": "S"}


@lru_cache(maxsize=4096)
def normalize_duration(value: str) -> str | None:
    """Return ``value`` as a normalised ISO 8601 duration, or ``None`` (module docstring).

    >>> [normalize_duration(v) for v in ("P0Y0M0DT1H30M0S", "PT90M", "90 min", "1h30", "1:30:00")]
    ['PT1H30M', 'PT1H30M', 'PT1H30M', 'PT1H30M', 'PT1H30M']
    """
    text = value.strip()
    if not text:
        return None
    match = _DURATION.fullmatch(text)
    if match:
        parts = {k: v for k, v in match.groupdict().items() if v is not None}
        return _format_duration({k: _number(v) for k, v in parts.items()})
    match = _CLOCK.fullmatch(text)
    if match:
        parts = {k: v for k, v in match.groupdict().items() if v is not None}
        return _format_duration({k: _number(v) for k, v in parts.items()})
    return _duration_from_words(text)


def _number(text: str) -> float:
    return float(text.replace(",", "."))


def _duration_from_words(text: str) -> str | None:
    parts: dict[str, float] = {}
    pending: float | None = None
    last_unit: str | None = None
    for word in _DURATION_WORDS.findall(_fold(text)):
        if word[0].isdigit():
            if pending is not None:
                return None  # two numbers in a row
            pending = _number(word)
        elif word in _UNITS:
            unit = _UNITS[word]
            if pending is None or unit in parts:
                return None
            parts[unit] = pending
            pending, last_unit = None, unit
        elif word in _DURATION_FILLERS:
            continue
        else:
            return None
    if pending is not None:  # "1h30", "2 min 30": the unit below the last one
        smaller = _SMALLER.get(last_unit or "")
        if smaller is None or smaller in parts:
            return None
        parts[smaller] = pending
    return _format_duration(parts) if parts else None


def _format_duration(parts: dict[str, float]) -> str | None:
    years, months = parts.get("Y", 0.0), parts.get("Mo", 0.0)
    if years != int(years) or months != int(months):
        return None  # a fraction of a calendar year or month has no fixed length
    days_total = parts.get("D", 0.0) + 7 * parts.get("W", 0.0)
    days = int(days_total)
    seconds = int((days_total - days) * 86400 + parts.get("H", 0.0) * 3600
                  + parts.get("M", 0.0) * 60 + parts.get("S", 0.0) + 0.5)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    date_part = "".join(f"{n}{d}" for n, d in ((int(years), "Y"), (int(months), "M"), (days, "D"))
                        if n)
    time_part = "".join(f"{n}{d}" for n, d in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    if not date_part and not time_part:
        return None
    return f"P{date_part}" + (f"T{time_part}" if time_part else "")
