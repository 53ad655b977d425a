"""Contact data in name strings and free text: found, taken out, and nothing else taken.

The property tests generate names with e-mail addresses and phone numbers embedded the ways
members write them (parentheses, angle brackets, ``mailto:``, labels, separators, in the middle
or at the end) and check that the cleaned name has no contact data left, by an oracle written
apart from the code, and keeps the name's words in order. The negatives check that years,
ranges, ISBNs, DOIs and ORCIDs are no phone numbers.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eduxchange.crosswalks import crosswalk
from eduxchange.normalize.contacts import (
    REDACTED,
    find_emails,
    find_phones,
    redact,
    scrub_description,
    split_contacts,
)
from eduxchange.normalize.vcard import parse_name, parse_vcard
from tests.support.hostile_privacy import EMAIL_SCAN, PHONE_SCAN, phone_pattern

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Words that label contact data ("E-mail: ...", "Tel. ...") are taken as labels, not as names.
_LABELS = {"e-mail", "email", "mail", "courriel", "correo", "contact", "tel", "tél", "phone",
           "fax", "telefon", "telephone", "téléphone", "mobile", "mobil", "mob", "cell", "handy",
           "portable", "gsm", "telefax", "telefono", "teléfono", "telefone", "tfno", "at", "dot"}
_LETTERS = "abcdefghijklmnopqrstuvwxyzéèüößñçøåABCDEFGHIJKLMNOPQRSTUVWXYZÉÜÖ"

word = st.text(_LETTERS, min_size=2, max_size=10).filter(lambda w: w.casefold() not in _LABELS)
words = st.lists(word, min_size=1, max_size=4)
local_part = st.from_regex(r"[a-z][a-z0-9]{0,6}(?:[._+-][a-z0-9]{1,5})?", fullmatch=True)
domain = st.from_regex(r"[a-z][a-z0-9-]{0,8}[a-z0-9]\.(?:org|com|fr|de|example|co\.uk)",
                       fullmatch=True)
email = st.builds(lambda a, b: f"{a}@{b}", local_part, domain)


def _digits(n: int) -> st.SearchStrategy[str]:
    return st.text("0123456789", min_size=n, max_size=n)


#: International numbers of real shapes (country code, area code, right lengths).
international = st.one_of(
    st.builds(lambda a, b, c, d: f"+33 1 {a} {b} {c} {d}", _digits(2), _digits(2), _digits(2),
              _digits(2)),
    st.builds(lambda a: f"+49 30 {a}", _digits(7)),
    st.builds(lambda a, b: f"+44 20 7{a} {b}", _digits(3), _digits(4)),
    st.builds(lambda a: f"+1 416 555 {a}", _digits(4)),
    st.builds(lambda a, b, c: f"+41 44 {a} {b} {c}", _digits(3), _digits(2), _digits(2)),
    st.builds(lambda a: f"+33{a}", st.from_regex(r"[1-5][0-9]{8}", fullmatch=True)),
)
#: National numbers after a label, in any format.
labelled = st.builds(lambda label, number: f"{label} {number}",
                     st.sampled_from(["Tel.", "Tel:", "Tél. :", "phone", "Fax", "Telefon", "☎"]),
                     st.from_regex(r"0[1-9](?:[ ./-]?[0-9]{2}){4}", fullmatch=True))

Contact = tuple[str, str | None, str | None]  # (text as embedded, e-mail, phone)


@st.composite
def contact(draw: st.DrawFn) -> Contact:
    kind = draw(st.sampled_from(["email", "mailto", "obfuscated", "international", "labelled"]))
    if kind in ("email", "mailto", "obfuscated"):
        address = draw(email)
        if kind == "mailto":
            return f"mailto:{address}", address, None
        if kind == "obfuscated":
            local, host = address.split("@")
            return f"{local} (at) {host.replace('.', ' [dot] ')}", address, None
        label = draw(st.sampled_from(["", "E-mail: ", "Email ", "courriel : "]))
        return label + address, address, None
    number = draw(international if kind == "international" else labelled)
    return number, None, number


@st.composite
def name_with_contact(draw: st.DrawFn) -> tuple[str, list[str], Contact]:
    """A name (plain or "Family, Given") with one contact embedded, and the name's words."""
    given_words = draw(words)
    family = draw(st.one_of(st.none(), word))
    item = draw(contact())
    text, address, number = item
    wrapped = draw(st.sampled_from(["({})", "<{}>", "[{}]", ", {}", " {}", " - {}", "; {}"]))
    piece = wrapped.format(text)
    if family is not None:  # "Doe, Jane (jane@example.org)": the contact after the given names
        name = f"{family}, {' '.join(given_words)}"
        full = f"{name} {piece}" if piece[0] in "(<[" else f"{name}{piece}"
        return full, [family, *given_words], item
    position = draw(st.integers(0, len(given_words)))
    if position < len(given_words) and piece[0] in "(<[":  # in the middle, bracketed
        full = " ".join([*given_words[:position], piece, *given_words[position:]])
    else:
        full = " ".join(given_words) + (f" {piece}" if piece[0] in "(<[" else piece)
    return full, given_words, item


def _no_contact_left(text: str, item: Contact) -> None:
    _, address, number = item
    assert not EMAIL_SCAN.search(text), text
    assert not PHONE_SCAN.search(text), text
    if address:
        assert address.split("@")[1] not in text, text  # no domain left of an obfuscated one
    if number:
        assert not phone_pattern(number).search(text), text


@SETTINGS
@given(name_with_contact())
def test_split_contacts_leaves_the_name_s_words_in_order_and_no_contact(
        case: tuple[str, list[str], Contact]) -> None:
    full, name_words, item = case
    name, emails, phones = split_contacts(full)
    _no_contact_left(name, item)
    assert [w.strip(",;") for w in name.split()] == name_words, (full, name)
    _, address, number = item
    if address:
        assert address in emails, (full, emails)
    if number:
        assert [p for p in phones if phone_pattern(number).search(p)], (full, phones)


@SETTINGS
@given(name_with_contact())
def test_parse_name_cleans_and_does_not_mangle(case: tuple[str, list[str], Contact]) -> None:
    full, name_words, item = case
    agent = parse_name(full)
    _no_contact_left(agent.name, item)
    words_out = agent.name.replace(",", "").split()
    if ", " in full and full.index(", ") < len(name_words[0]) + 1:  # "Family, Given ..."
        # "Given Family", unless the words read as an organisation's (a generated "Lab", "AG"):
        # either way every word is there, the family name moved to the end or not at all.
        assert words_out in (name_words, [*name_words[1:], name_words[0]]), (full, agent.name)
    else:
        assert words_out == name_words, (full, agent.name)
    _, address, number = item
    if address:
        assert agent.email == address
    if number:
        assert agent.telephone is not None and phone_pattern(number).search(agent.telephone)
    assert "email" not in agent.to_dict() and "telephone" not in agent.to_dict()


@pytest.mark.parametrize(("text", "name", "email", "phone"), [
    ("Doe, Jane (jane@example.org)", "Jane Doe", "jane@example.org", None),
    ("Jane (jane@example.org) Doe", "Jane Doe", "jane@example.org", None),
    ("Jim <jim@example.org>", "Jim", "jim@example.org", None),
    ("ACME Press, pub@example.org, +33 1 23 45 67 89", "ACME Press", "pub@example.org",
     "+33 1 23 45 67 89"),
    ("Müller, Jürgen, E-Mail: jm@example.de, Tel.: 030/123 456 78", "Jürgen Müller",
     "jm@example.de", "030/123 456 78"),
    ("Smith, John (555) 123-4567", "John Smith", None, "(555) 123-4567"),
    ("Roe, Ann <ann(at)example(dot)org>", "Ann Roe", "ann@example.org", None),
    ("Jim &lt;jim@example.org&gt;", "Jim", "jim@example.org", None),
])
def test_the_issue_s_name_strings(text: str, name: str, email: str | None,
                                  phone: str | None) -> None:
    agent = parse_name(text)
    assert (agent.name, agent.email, agent.telephone) == (name, email, phone)


def test_a_name_that_is_only_contact_data_names_nobody() -> None:
    for text in ("mailto:john@example.org", "john@example.org", "+33 1 23 45 67 89",
                 "<jim@example.org>"):
        with pytest.raises(ValueError):
            parse_name(text)


@pytest.mark.parametrize("card", [
    "BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe <jane@example.org>\nEND:VCARD",
    "BEGIN:VCARD\nVERSION:3.0\nFN:\nN:Doe;Jane (jane@example.org);;;\nEND:VCARD",
    "BEGIN:VCARD\nVERSION:2.1\nFN:Jane Doe, jane@example.org\nEND:VCARD",
])
def test_vcard_names_lose_their_addresses(card: str) -> None:
    agent = parse_vcard(card)
    assert agent is not None
    assert (agent.name, agent.email) == ("Jane Doe", "jane@example.org")


def test_vcard_org_that_is_an_address_names_nobody_and_org_contacts_stay_with_the_org() -> None:
    assert parse_vcard("BEGIN:VCARD\nVERSION:3.0\nORG:jane@example.org\nEND:VCARD") is None
    person = parse_vcard("BEGIN:VCARD\nVERSION:3.0\nFN:Jane Doe\n"
                         "ORG:ACME Press, pub@example.org, +33 1 23 45 67 89\nEND:VCARD")
    assert person is not None and person.affiliation is not None
    assert person.affiliation.name == "ACME Press"
    assert (person.email, person.telephone) == (None, None)  # the press's, not hers
    org = parse_vcard("BEGIN:VCARD\nVERSION:3.0\nORG:ACME Press, pub@example.org\nEND:VCARD")
    assert org is not None and (org.name, org.email) == ("ACME Press", "pub@example.org")


def test_an_affiliation_keeps_no_contacts_even_when_they_are_published() -> None:
    """Contacts in an affiliation's name are taken out and not put on the affiliation, whose
    schema allows type, name and id alone (the record would be quarantined)."""
    description = {"creator": [{"type": "Person", "name": "Jane Roe", "affiliation": {
        "type": "Organization", "name": "Uni X <info@unix.example>, +33 1 23 45 67 89"}}]}
    for include_contacts in (True, False):
        scrubbed = scrub_description(description, include_contacts=include_contacts)
        assert scrubbed["creator"][0]["affiliation"] == {"type": "Organization", "name": "Uni X"}


# --- what must survive --------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Algebra 2019-2020, chapters 12-18",
    "ISBN 978-3-16-148410-0", "ISBN 0-306-40615-2", "urn:isbn:9783161484100",
    "DOI 10.1000/182, https://doi.org/10.1234/5678-9012",
    "Li Wei https://orcid.org/0000-0002-1825-0097", "Li Wei 0000-0002-1825-0097",
    "Grade 10+ 2019-2020", "ages 6-11, +18 optional", "C++ 11 and C++17",
    "Temperatures from -20 to +35 degrees, 1998-2024", "Lycée 0750001A", "Route 66",
    "Class of 1999 / 2000 / 2001", "Phone cases 2024", "Telefonie 2019-2020",
    "Version 1.2.3.4, build 20240101", "ages 14 - 18, 120 min, 45 pages",
    "Tel Aviv University", "ISO 8601: 2024-01-31T12:00:00+01:00",
    "Session 01.02.2019 - 03.04.2020",
])
def test_digits_that_are_no_phone_numbers_survive(text: str) -> None:
    assert redact(text) == text
    assert split_contacts(text) == (text, (), ())
    assert find_phones(text, name=True) == []


@SETTINGS
@given(st.integers(1900, 2099), st.integers(0, 30), st.integers(1, 999), st.integers(1, 999),
       st.lists(word, max_size=3).map(" ".join))
def test_years_ranges_and_isbns_are_no_phone_numbers(
        year: int, span: int, low: int, pages: int, words_: str) -> None:
    isbn12 = f"978{year:04d}{low:03d}{pages:02d}"[:12]
    check = (10 - sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(isbn12)) % 10) % 10
    isbn = f"{isbn12[:3]}-{isbn12[3:4]}-{isbn12[4:8]}-{isbn12[8:]}-{check}"
    text = (f"{words_} {year}-{year + span}, {year}/{year + 1}, pages {low}-{low + pages}, "
            f"ISBN {isbn}, {pages} p., {year} {year + span}")
    assert redact(text) == text
    assert split_contacts(text)[0] == text


def test_redact_free_text_keeps_the_sentence() -> None:
    text = "Questions: jane@example.org or Tel. 01 23 45 67 89 (1998-2024 edition)"
    assert redact(text) == f"Questions: {REDACTED} or Tel. {REDACTED} (1998-2024 edition)"
    assert find_emails("write to mailto:a@example.org?subject=Hi") == ["a@example.org"]


def test_the_gate_cleans_every_field_of_a_description() -> None:
    dc = (b'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
          b'xmlns:dc="http://purl.org/dc/elements/1.1/">'
          b"<dc:title>Algebra, ask jane@example.org</dc:title>"
          b"<dc:creator>Doe, Jane (jane@example.org)</dc:creator>"
          b"<dc:publisher>ACME Press, pub@example.org, +33 1 23 45 67 89</dc:publisher>"
          b"<dc:subject>algebra; kw@example.org</dc:subject>"
          b"<dc:rights>(c) Jane Doe, +33 1 23 45 67 89</dc:rights>"
          b"<dc:identifier>https://oer.example.org/x</dc:identifier></oai_dc:dc>")
    closed = scrub_description(crosswalk(dc), include_contacts=False)
    flat = repr(closed)
    assert not EMAIL_SCAN.search(flat) and not PHONE_SCAN.search(flat), flat
    assert closed["creator"] == [{"type": "Person", "name": "Jane Doe"}]
    assert closed["publisher"] == [{"type": "Organization", "name": "ACME Press"}]
    assert closed["name"] == {"@none": f"Algebra, ask {REDACTED}"}
    assert closed["keywords"] == {"@none": ["algebra"]}
    assert closed["url"] == "https://oer.example.org/x"

    from eduxchange.crosswalks import CrosswalkOptions
    opened = scrub_description(crosswalk(dc, options=CrosswalkOptions(include_contacts=True)),
                               include_contacts=True)
    assert opened["creator"] == [{"type": "Person", "name": "Jane Doe",
                                  "email": "jane@example.org"}]
    assert opened["publisher"] == [{"type": "Organization", "name": "ACME Press",
                                    "email": "pub@example.org",
                                    "telephone": "+33 1 23 45 67 89"}]
    # Opted in: the member's own text is published as written; names are still clean.
    assert opened["name"] == {"@none": "Algebra, ask jane@example.org"}


def test_the_gate_drops_contact_fields_a_crosswalk_let_through() -> None:
    description = {"type": ["LearningResource"], "name": {"en": "X"},
                   "creator": [{"type": "Person", "name": "Jim <jim@example.org>",
                                "email": "jim@example.org", "telephone": "+49 30 1234567",
                                "address": "1 Main St",
                                "affiliation": {"type": "Organization",
                                                "name": "ACME, org@example.org"}},
                               {"type": "Person", "name": "mailto:x@example.org"}],
                   "url": "mailto:jim@example.org"}
    closed = scrub_description(description, include_contacts=False)
    assert closed == {"type": ["LearningResource"], "name": {"en": "X"},
                      "creator": [{"type": "Person", "name": "Jim",
                                   "affiliation": {"type": "Organization", "name": "ACME"}}]}
    assert re.search("@", repr(description))  # the argument is not changed


sentence_word = st.one_of(word, st.sampled_from(["2019-2020", "12-18", "ISBN 978-3-16-148410-0",
                                                 "p. 250", "10+", "1998", "(ed.)", "C++"]))


@SETTINGS
@given(st.lists(sentence_word, min_size=1, max_size=8), contact(), st.data())
def test_redact_takes_the_contact_out_of_free_text_and_keeps_the_rest(
        sentence: list[str], item: Contact, data: st.DataObject) -> None:
    position = data.draw(st.integers(0, len(sentence)))
    # After a number, a comma: "+49 30 1234567 2019" may be one number (contacts.py).
    after = [f", {sentence[position]}", *sentence[position + 1:]] if position < len(sentence) \
        else []
    text = " ".join([*sentence[:position], item[0]]) + " ".join(after)
    redacted = redact(text)
    _no_contact_left(redacted, item)
    alone = redact(item[0])  # a label stays: "E-mail: […]", "Tel. […]"
    assert alone.endswith(REDACTED) and not re.search(r"[\d@]", alone), alone
    assert redacted == " ".join([*sentence[:position], alone]) + " ".join(after), text


_DC = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
       'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>T</dc:title>'
       "<dc:{role}>{name}</dc:{role}></oai_dc:dc>")
_LRMI = {"@context": "https://schema.org/", "@type": "LearningResource", "name": "T"}


@SETTINGS
@given(name_with_contact(), st.sampled_from(["creator", "contributor", "publisher"]),
       st.sampled_from(["dc", "lrmi", "lrmi-object"]))
def test_no_crosswalk_lets_contact_data_through_the_gate(
        case: tuple[str, list[str], Contact], role: str, source: str) -> None:
    from xml.sax.saxutils import escape

    full, name_words, item = case
    payload: bytes | dict[str, object]
    if source == "dc":
        payload = _DC.format(role=role, name=escape(full)).encode()
    else:
        lrmi_role = {"creator": "author", "contributor": "contributor"}.get(role, role)
        value: object = full if source == "lrmi" else {"@type": "Person", "name": full}
        payload = {**_LRMI, lrmi_role: value}
    description = scrub_description(crosswalk(payload), include_contacts=False)
    flat = repr(description)
    _no_contact_left(flat, item)
    agents = description.get(role, [])
    assert len(agents) == 1, (full, description)
    assert set(agents[0]["name"].replace(",", "").split()) == set(name_words), (full, agents)


@pytest.mark.parametrize(("text", "expected"), [
    ("Call +33 1 23 45 67 89 2019-2020 edition", f"Call {REDACTED} 2019-2020 edition"),
    ("+1 416 555 0134 ages 12-18", f"{REDACTED} ages 12-18"),
    ("+44 20 7946 0958 2019", f"{REDACTED} 2019"),
    ("(+49 30 1234567)", f"({REDACTED})"),
])
def test_a_number_followed_by_other_digits_is_still_found(text: str, expected: str) -> None:
    """libphonenumber's matcher rejects "+33 1 23 45 67 89 2019" whole; it is cut at words."""
    assert redact(text) == expected


def test_docstring_examples() -> None:
    import doctest

    from eduxchange.normalize import contacts

    result = doctest.testmod(contacts, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 6 and result.failed == 0
