"""Contact data in text: e-mail addresses and phone numbers found, taken out of names, redacted.

Members put persons' contact data where the record has no place for it: in name strings
(``Doe, Jane (jane@example.org)``, ``Jim <jim@example.org>``, ``mailto:john@example.org``, a
publisher ``ACME Press, pub@example.org, +33 1 23 45 67 89``, a vCard ``FN:Jane <jane@...>``),
and in free text (``Contact: jane@example.org``). The catalogue republishes none of it unless
the member's config sets ``publish_contacts = true`` (docs/normalization.md, "Privacy").

* :func:`split_contacts` takes the contact data out of a *name*: what is left is the name with
  its words in order (``"Doe, Jane (jane@example.org)"`` -> ``"Doe, Jane"``, which
  :func:`~eduxchange.normalize.vcard.parse_name` then turns into "Jane Doe"); the addresses
  and numbers found are returned apart, for the agent's ``email`` and ``telephone``.
* :func:`redact` replaces contact data in *free text* with ``[…]`` (the editorial mark of an
  omission, which needs no translation), so a sentence keeps its shape.
* :func:`scrub_description` is the one gate every description passes
  (:func:`eduxchange.catalog.normalization.describe`): agents' names cleaned in every case, agents' contact
  fields and contact data anywhere else in the description removed unless contacts are published.

What counts as a phone number, and why (titles and descriptions are full of digits: years,
ranges, ISBNs, page counts, which must survive):

* international numbers (``+33 1 23 45 67 89``, ``+1-800-555-0199``, ``+44 (0) 20 7946 0958``):
  Google's libphonenumber (the ``phonenumbers`` package, its ``PhoneNumberMatcher`` with
  ``POSSIBLE`` leniency, which knows every country's number lengths and rejects dates), kept when
  the ``+`` stands right before a digit or ``(`` and is no suffix (``Grade 10+ 2019``);
* numbers after a label (``Tel.``, ``Tél :``, ``phone``, ``Fax``, ``Telefon``, ``☎``, a
  ``tel:`` URI), in any national format, with at least six digits;
* in names only, national formats without a label: a trunk ``0`` and at least nine digits in
  groups (``01 23 45 67 89``, ``030/123 456 78``) that are no ISBN-10, ORCID or date
  (``01.02.2019 - 03.04.2020``), and the North American
  ``(555) 123-4567`` and ``555-123-4567``. A name has no other use for such digit runs.

E-mail addresses: ``local@domain.tld`` (Unicode letters allowed), ``mailto:`` URIs whole (with a
query), the fullwidth ``＠``, and the usual obfuscations ``jane (at) example (dot) org``,
``jane[at]example.org``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any, cast

import phonenumbers
from phonenumbers import Leniency, PhoneNumberMatcher

from ..core.record import Description

__all__ = ["REDACTED", "find_emails", "find_phones", "has_contacts", "redact", "scrub_description",
           "split_contacts"]

#: What :func:`redact` puts where contact data was.
REDACTED = "[…]"

_AT = r"(?:@|＠|\s*[\[({]\s*(?:at|@)\s*[\])}]\s*)"
_DOT = r"(?:\.|\s*[\[({]\s*(?:dot|punkt|point)\s*[\])}]\s*)"
_LOCAL = r"[\w!#$%&'*+=?^`~-]+(?:\.[\w!#$%&'*+=?^`~-]+)*"
_DOMAIN = rf"(?:[\w-]+{_DOT})+[^\W\d_]{{2,}}(?![\w-])"
_EMAIL = re.compile(
    rf"mailto:[^\s<>()\[\]\"',;]*|(?<![\w.+-]){_LOCAL}{_AT}{_DOMAIN}", re.IGNORECASE)
#: Cheap test first: most strings have nothing of the kind.
_EMAIL_HINT = re.compile(r"[@＠]|mailto:|[\[({]\s*at\s*[\])}]", re.IGNORECASE)

_LABEL = (r"(?:\b(?:tel|tél|tele?phone|téléphone|telefon|telefono|teléfono|telefone|tfno|phone|"
          r"fax|telefax|mobile?|mob|cell|handy|portable|gsm)\b\.?|☎|📞|✆)")
#: A phone number's shape: an optional "+cc", an optional "(area)", digit groups with separators
#: ("+33 (0)1 23 45 67 89", "(555) 123-4567", "030/123 456 78"); it stops before " (1998".
_NUMBER = r"(?:\+\s?\d{1,3}\s?)?(?:\(\d{1,5}\)\s?)?\d+(?:[ \t./-]{1,2}\d+)*"
_LABELLED = re.compile(rf"{_LABEL}\s*(?:\([^)\d]{{1,20}}\)\s*)?[:.]?\s*(?P<number>{_NUMBER})",
                       re.IGNORECASE)
_INTERNATIONAL = re.compile(r"(?<![\w+])\+\s?\(?\d[\d \t().\/-]{4,}\d")
_TEL_URI = re.compile(r"tel:\s*\+?[\d().-]+\d")
#: National formats, in names only (module docstring).
_NATIONAL = re.compile(
    r"(?<![\w+/:.-])(?:(?:\(0\d{1,4}\)|0\d{1,4})(?:[ .\/-]+\d{2,4}){2,5}|"
    r"\(\d{3}\)\s?\d{3}[ .-]\d{4}|\d{3}[.-]\d{3}[.-]\d{4})(?![\w-])")
_PHONE_HINT = re.compile(r"\+\s*\(?\d|tel:|\b(?:t[eé]l|phone|fax|mob|cell|handy|portable|gsm)|"
                         r"[☎📞✆]", re.IGNORECASE)
_DIGITS = re.compile(r"\d")
_DATE = re.compile(r"(?<!\d)(?:\d{1,2}[./-]\d{1,2}[./-](?:1[5-9]|20)\d\d|"
                   r"(?:1[5-9]|20)\d\d[./-]\d{1,2}[./-]\d{1,2})(?!\d)")
_ORCID_SHAPE = re.compile(r"\d{4}-\d{4}-\d{4}-\d{3}[\dX]", re.IGNORECASE)

Span = tuple[int, int]


def _isbn10(digits: str) -> bool:
    if len(digits) != 10 or not digits[:9].isdigit():
        return False
    total = sum((10 - i) * (10 if d in "Xx" else int(d)) for i, d in enumerate(digits))
    return total % 11 == 0


#: Substrings without which a text has no contact data: one search for all of them is much
#: cheaper than the patterns, which run only when one is there (most strings are concept labels).
_HINTS = ("＠", "mailto", "tel", "tél", "phone", "fax", "mob", "cell", "handy", "portable", "gsm",
          "at)", "at]", "at}", "at )", "at ]", "at }", "☎", "📞", "✆")
_HINT = re.compile("|".join(re.escape(h) for h in _HINTS), re.IGNORECASE)


def _may_have_contacts(text: str) -> bool:
    return "@" in text or "+" in text or _HINT.search(text) is not None


def _email_spans(text: str) -> list[Span]:
    if not _EMAIL_HINT.search(text):
        return []
    return [m.span() for m in _EMAIL.finditer(text)]


def _phone_spans(text: str, *, name: bool) -> list[Span]:
    spans: list[Span] = []
    if _PHONE_HINT.search(text):
        for match in _LABELLED.finditer(text):  # the number only: "Tel. […]" in free text
            if len(_DIGITS.findall(match.group("number"))) >= 6:
                spans.append(match.span("number"))
        spans.extend(m.span() for m in _TEL_URI.finditer(text))
        if "+" in text:
            for found in PhoneNumberMatcher(text, None, leniency=Leniency.POSSIBLE):
                start, raw = found.start, found.raw_string
                if raw[:2] in ("(+", "[+"):  # "(+49 30 1234567)": no part of the number
                    start, raw = start + 1, raw[1:]
                before = text[start - 1] if start else " "
                # A "+" must lead the number ("Grade 10+ 2019-2020" is no phone number) and it
                # must have the digits of one (country code and at least six more).
                if (raw[:1] == "+" and raw[1:2] in "0123456789(" and not before.isalnum()
                        and len(str(found.number.national_number)) >= 6):
                    spans.append((start, found.end))
            spans.extend(_international_followed_by_digits(text, spans))
    if name and len(_DIGITS.findall(text)) >= 9:
        for match in _NATIONAL.finditer(text):
            digits = "".join(_DIGITS.findall(match.group()))
            if (len(digits) >= 9 and not _isbn10(digits)
                    and not _ORCID_SHAPE.fullmatch(match.group())
                    and not _DATE.search(match.group())):
                spans.append(match.span())
    return spans


def _international_followed_by_digits(text: str, found: list[Span]) -> list[Span]:
    """International numbers the matcher missed because more digits follow them.

    ``PhoneNumberMatcher`` takes ``+33 1 23 45 67 89 2019-2020`` as one candidate and rejects
    it whole. Here such a run is cut between its words, from the right, and the longest part
    that libphonenumber deems a valid number (else the longest possible one) is taken. Where a
    country's numbers have many lengths (Germany) a number written before another one with only
    a space between (``+49 30 1234567 2019``) may take it along: better a year too many than
    four digits of a phone number left.
    """
    spans: list[Span] = []
    for match in _INTERNATIONAL.finditer(text):
        start = match.start()
        if any(a <= start < b for a, b in found):
            continue
        candidate = match.group()
        # Cut between words only: "2019-2020" after a number is one word, kept whole.
        cuts = [i for i, char in enumerate(candidate) if char in " \t"] + [len(candidate)]
        possible: int | None = None
        for cut in reversed(cuts):
            prefix = candidate[:cut].rstrip(" \t./-(")
            try:
                number = phonenumbers.parse(prefix, None)
            except phonenumbers.NumberParseException:
                continue
            if len(str(number.national_number)) < 6:
                break  # shorter parts have fewer digits still
            if phonenumbers.is_valid_number(number):
                spans.append((start, start + len(prefix)))
                break
            if possible is None and phonenumbers.is_possible_number(number):
                possible = len(prefix)
        else:
            if possible is not None:
                spans.append((start, start + possible))
    return spans


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def find_emails(text: str) -> list[str]:
    """The e-mail addresses in ``text``, as ``local@domain`` (``mailto:`` and obfuscation undone).

    >>> find_emails("Jim <jim@example.org>, mailto:ann@example.org?subject=OER, bo (at) ex.org")
    ['jim@example.org', 'ann@example.org', 'bo@ex.org']
    """
    found: list[str] = []
    for start, end in _email_spans(text):
        value = text[start:end]
        if value[:7].lower() == "mailto:":
            value = value[7:].split("?", 1)[0].strip()
        value = re.sub(_AT, "@", value, count=1, flags=re.IGNORECASE)
        value = re.sub(r"\s*[\[({]\s*(?:dot|punkt|point)\s*[\])}]\s*", ".", value,
                       flags=re.IGNORECASE)
        if "@" in value and value not in found:
            found.append(value)
    return found


def find_phones(text: str, *, name: bool = False) -> list[str]:
    """The phone numbers in ``text`` as written (labels and ``tel:`` left out).

    ``name``: ``text`` is a name, where unlabelled national formats count too (module docstring).

    >>> find_phones("ACME Press, pub@example.org, +33 1 23 45 67 89")
    ['+33 1 23 45 67 89']
    >>> find_phones("Published 2019-2020, ISBN 978-3-16-148410-0, pages 12-18")
    []
    """
    found: list[str] = []
    for start, end in _merge(_phone_spans(text, name=name)):
        value = text[start:end].removeprefix("tel:").strip(" \t.-/")
        if value and value not in found:
            found.append(value)
    return found


def has_contacts(text: str, *, name: bool = False) -> bool:
    """Whether ``text`` holds an e-mail address or a phone number (:func:`find_emails`, ...)."""
    return bool(_email_spans(text) or _phone_spans(text, name=name))


# What is left around removed contact data in a name: labels, empty brackets, stray separators.
_LABEL_BEFORE = re.compile(
    rf"(?:(?:\b(?:e-?mail|courriel|mail|correo|contact)\b|{_LABEL})\s*(?:\([^)\d]{{1,20}}\)\s*)?"
    r"[:.]?\s*)+$", re.IGNORECASE)
_EMPTY_BRACKETS = re.compile(r"[(\[<{]\s*[,;:/|–—-]*\s*[)\]>}]")
_SEPARATOR_RUN = re.compile(r"\s*([,;/|])(?:\s*[,;/|:])+")
_EDGES = " \t,;:/|–—-·•"


@lru_cache(maxsize=4096)
def split_contacts(name: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """``(name without contact data, e-mail addresses, phone numbers)`` of one name string.

    The name's words stay in their order; a contact's label (``E-mail:``, ``Tel.``), the
    brackets around it and the separators it leaves are removed too. The name may be ``""``
    (``"mailto:john@example.org"`` names nobody).

    >>> split_contacts("Doe, Jane (jane@example.org)")
    ('Doe, Jane', ('jane@example.org',), ())
    >>> split_contacts("ACME Press, pub@example.org, +33 1 23 45 67 89")
    ('ACME Press', ('pub@example.org',), ('+33 1 23 45 67 89',))
    """
    if not _may_have_contacts(name) and sum(c.isdigit() for c in name) < 9:
        return name, (), ()
    email_spans = _email_spans(name)
    phone_spans = _phone_spans(name, name=True)
    if not email_spans and not phone_spans:
        return name, (), ()
    emails = tuple(find_emails(name))
    phones = tuple(find_phones(name, name=True))
    pieces: list[str] = []
    position = 0
    for start, end in _merge([*email_spans, *phone_spans]):
        before = _LABEL_BEFORE.sub("", name[position:start])
        pieces.append(before)
        pieces.append(" ")
        position = end
    pieces.append(name[position:])
    text = "".join(pieces)
    previous = None
    while previous != text:  # "( , )" inside "< >": tidy until nothing changes
        previous = text
        text = _EMPTY_BRACKETS.sub(" ", text)
        text = _SEPARATOR_RUN.sub(r"\1", text)
        text = " ".join(text.split())
        text = text.replace(" ,", ",").replace(" ;", ";")
        text = text.strip(_EDGES)
    return text, emails, phones


@lru_cache(maxsize=16384)  # concept labels and licence notices recur in every record
def redact(text: str) -> str:
    """``text`` with every e-mail address and phone number replaced by :data:`REDACTED`.

    >>> redact("Questions: jane@example.org or Tel. 01 23 45 67 89 (1998-2024 edition)")
    'Questions: […] or Tel. […] (1998-2024 edition)'
    """
    if not _may_have_contacts(text):
        return text
    spans = _merge([*_email_spans(text), *_phone_spans(text, name=False)])
    if not spans:
        return text
    pieces: list[str] = []
    position = 0
    for start, end in spans:
        pieces.append(text[position:start])
        pieces.append(REDACTED)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


# --- the gate -------------------------------------------------------------------------------

_AGENT_ROLES = ("creator", "contributor", "publisher")
_CONTACT_KEYS = ("email", "telephone", "address")
#: Keys whose values are IRIs, codes or dates: no free text, and digits that are no phones.
_NOT_TEXT = frozenset({"id", "url", "identifier", "inLanguage", "encodingFormat", "datePublished",
                       "dateCreated", "dateModified", "duration", "type", "isAccessibleForFree",
                       "typicalAgeRange", "@context"})
_WORDLESS = re.compile(r"[\W_]*")


def scrub_description(description: Description, *, include_contacts: bool) -> Description:
    """The description with contact data kept only where it may be (module docstring).

    Agents (``creator``, ``contributor``, ``publisher`` and their ``affiliation``): names are
    cleaned with :func:`split_contacts` in every case (an agent left without a name is dropped);
    with ``include_contacts`` the addresses and numbers found in a name fill the agent's empty
    ``email`` / ``telephone``, without it ``email``, ``telephone`` and ``address`` go. Every
    other text is :func:`redact`-ed unless ``include_contacts``; an IRI holding an e-mail
    address is dropped; list items left with no word are dropped. Returns a new dict; the
    argument is not changed.
    """
    out: dict[str, Any] = {}
    for key, value in description.items():
        if key in _AGENT_ROLES and isinstance(value, list):
            agents = [a for a in (_agent(v, include_contacts) for v in value) if a is not None]
            if agents:
                out[key] = agents
            continue
        cleaned = _value(value, include_contacts, text=key not in _NOT_TEXT)
        if cleaned is not _DROP:
            out[key] = cleaned
    # A walk that keeps each key and the shape of its value (mypy cannot follow keys chosen at
    # run time): what it returns is a description still.
    return cast(Description, out)


_DROP: Any = object()


def _value(value: Any, include_contacts: bool, *, text: bool) -> Any:
    if isinstance(value, str):
        if not text:
            return _DROP if not include_contacts and "@" in value and _email_spans(value) \
                else value
        return value if include_contacts else redact(value)
    if isinstance(value, dict):
        result: dict[str, Any] = {}
        for key, item in value.items():
            cleaned = _value(item, include_contacts, text=text and key not in _NOT_TEXT)
            if cleaned is not _DROP:
                result[key] = cleaned
        return result
    if isinstance(value, (list, tuple)):
        items = []
        for item in value:
            cleaned = _value(item, include_contacts, text=text)
            if cleaned is _DROP:
                continue
            if isinstance(cleaned, str) and isinstance(item, str) and cleaned != item and \
                    _WORDLESS.fullmatch(cleaned.replace(REDACTED, "")):
                continue  # a keyword that was only an address
            items.append(cleaned)
        return items if isinstance(value, list) else tuple(items)
    return value


def _agent(value: Any, include_contacts: bool) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    name = value.get("name")
    if not isinstance(name, str):
        return None
    name, emails, phones = split_contacts(name)
    if not name:
        return None
    agent = dict(value)
    agent["name"] = name
    affiliation = agent.get("affiliation")
    if affiliation is not None:
        # An affiliation is an organization's type, name and id (the record's schema allows
        # nothing else): contacts found in its name are taken out, never kept on it.
        cleaned = _agent(affiliation, False)
        if cleaned is None:
            del agent["affiliation"]
        else:
            agent["affiliation"] = cleaned
    if include_contacts:
        if emails and not agent.get("email"):
            agent["email"] = emails[0]
        if phones and not agent.get("telephone"):
            agent["telephone"] = phones[0]
    else:
        for key in _CONTACT_KEYS:
            agent.pop(key, None)
    return agent
