"""Format negotiation: the richest known format wins, known by namespace before prefix."""

from __future__ import annotations

from eduxchange.harvesting.formats import choose_format, identify_format
from eduxchange.core.models import MetadataFormat as F

DC = F(prefix="oai_dc", namespace="http://www.openarchives.org/OAI/2.0/oai_dc/")
LOM = F(prefix="lom", namespace="http://ltsc.ieee.org/xsd/LOM")
IMSMD_AS_LOM = F(prefix="lom", namespace="http://www.imsglobal.org/xsd/imsmd_v1p2")
QDC = F(prefix="qdc", namespace="http://purl.org/dc/terms/")
LOMFR = F(prefix="lomfr", namespace="http://www.lom-fr.fr/xsd/LOMFR")
MARC = F(prefix="marc21", namespace="http://www.loc.gov/MARC21/slim")


def test_lom_beats_everything() -> None:
    assert choose_format([DC, QDC, MARC, LOM]) == LOM


def test_ims_md_served_as_lom_is_known_by_namespace() -> None:
    known = identify_format(IMSMD_AS_LOM)
    assert known is not None and known.name == "imsmd"
    assert choose_format([DC, IMSMD_AS_LOM]) == IMSMD_AS_LOM
    assert choose_format([IMSMD_AS_LOM, LOM]) == LOM


def test_national_profile_counts_as_lom() -> None:
    assert choose_format([DC, LOMFR]) == LOMFR


def test_qualified_dc_before_oai_dc_and_oai_dc_last() -> None:
    assert choose_format([DC, QDC]) == QDC
    assert choose_format([MARC, DC]) == DC


def test_unknown_namespace_under_a_familiar_prefix_is_not_read() -> None:
    assert identify_format(F(prefix="lom", namespace="http://example.org/other")) is None


def test_prefix_decides_when_no_namespace_is_given() -> None:
    assert choose_format([F(prefix="oai_dc"), F(prefix="lom")]) == F(prefix="lom")


def test_nothing_known() -> None:
    assert choose_format([MARC]) is None and choose_format([]) is None
