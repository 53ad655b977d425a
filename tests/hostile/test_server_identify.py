"""Identify says who runs the catalogue, as configured, and the rdf format names an XML Schema
the server publishes (issue 9, item 18). Real server on 127.0.0.1; the CLI via CliRunner."""

from __future__ import annotations

from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from lxml import etree

import eduxchange
from eduxchange.demo import write_config as write_demo_config
from eduxchange.core.errors import ConfigError
from eduxchange.publish.provider import Provider
from eduxchange.publish.server import serve
from eduxchange.store.sqlite import ReadOnlySQLiteStore
from eduxchange_cli.main import main
from tests.support.hostile_server import ADMIN_EMAIL, Published, catalogue, published
from tests.support.standards import oai_response_schema

OAI = "{http://www.openarchives.org/OAI/2.0/}"
RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Published]:
    with published(tmp_path_factory.mktemp("identify")) as s:
        yield s


def _get(site: Published, **params: str) -> etree._Element:
    r = requests.get(site.url + "oai", params=params, timeout=10)
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    schema = oai_response_schema()
    assert schema is None or schema.validate(root)
    return root


def test_identify_names_the_configured_administrator(site: Published) -> None:
    identify = _get(site, verb="Identify").find(f"{OAI}Identify")
    assert identify is not None
    # Before: oai-admin@{host of base_uri}, an address nobody reads.
    assert [e.text for e in identify.findall(f"{OAI}adminEmail")] == [ADMIN_EMAIL]


def test_repository_name_and_several_admin_emails_come_from_the_config(tmp_path: Path) -> None:
    with catalogue(tmp_path) as config:
        path = config.path
        assert path is not None
        path.write_text(path.read_text().replace(
            f'admin_email = "{ADMIN_EMAIL}"',
            'admin_email = ["oai@alliance.example.org", "ops@alliance.example.org"]\n'
            'repository_name = "OER Alliance  catalogue"'))
        config = eduxchange.load_config(path)
        assert config.feed.repository_name == "OER Alliance catalogue"
        store = ReadOnlySQLiteStore(config.catalog.store)
        try:
            body = Provider(config, store).handle({"verb": ["Identify"]}, base_url="http://h/oai")
        finally:
            store.close()
    identify = etree.fromstring(body).find(f"{OAI}Identify")
    assert identify is not None
    assert identify.findtext(f"{OAI}repositoryName") == "OER Alliance catalogue"
    assert [e.text for e in identify.findall(f"{OAI}adminEmail")] == [
        "oai@alliance.example.org", "ops@alliance.example.org"]


def _without_admin_email(config: eduxchange.Config) -> Path:
    assert config.path is not None
    config.path.write_text(config.path.read_text().replace(f'admin_email = "{ADMIN_EMAIL}"', ""))
    return config.path


def test_serving_without_an_admin_email_is_a_config_error_that_says_what_to_add(
        tmp_path: Path) -> None:
    with catalogue(tmp_path) as config:
        path = _without_admin_email(config)
        bare = eduxchange.load_config(path)  # harvesting needs no admin_email
        with pytest.raises(ConfigError, match=r"\[feed\].*admin_email.*4\.2"):
            serve(bare, "127.0.0.1", 0)
        result = CliRunner().invoke(main, ["serve", "-c", str(path), "--port", "0"])
    assert result.exit_code == 2
    assert "admin_email" in result.output and "[feed]" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize("line", [
    'admin_email = "not an address"', 'admin_email = "oai-admin@127"', "admin_email = 7",
    'admin_email = "oai-admin@127.0.0.1"', 'admin_email = "a@b@example.org"',
    'admin_email = ["ok@example.org", ""]', 'repository_name = ""',
    'repository_name = "two\\nlines"', "repository_name = 3"])
def test_bad_feed_values_are_config_errors(tmp_path: Path, line: str) -> None:
    path = tmp_path / "alliance.toml"
    path.write_text(f"[feed]\n{line}\n")
    with pytest.raises(ConfigError, match=r"alliance.toml: \[feed\]: key '(admin_email|"
                                          r"repository_name)'"):
        eduxchange.load_config(path)


def test_the_demo_configures_a_real_looking_administrator(tmp_path: Path) -> None:
    config = eduxchange.load_config(write_demo_config(tmp_path / "alliance.toml", [],
                                                      base_uri="http://127.0.0.1:8000/"))
    (email,) = config.feed.admin_email
    assert "127.0.0.1" not in email and email.split("@")[1].count(".") >= 1
    assert config.feed.repository_name


def test_rdf_names_a_schema_this_server_publishes_and_the_records_validate_against_it(
        site: Published) -> None:
    formats = _get(site, verb="ListMetadataFormats")
    entry = {f.findtext(f"{OAI}metadataPrefix"): f for f in formats.iter(f"{OAI}metadataFormat")}
    rdf = entry["rdf"]
    assert rdf.findtext(f"{OAI}metadataNamespace") == RDF_NS
    url = rdf.findtext(f"{OAI}schema")
    # Before: http://www.w3.org/TR/rdf-syntax-grammar/, a web page, not an XML Schema.
    assert url == site.url + "schemas/rdf-lax.xsd"
    fetched = requests.get(url, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["Content-Type"] == "application/xml"
    assert fetched.content == (files("eduxchange.schemas") / "xsd/rdf/rdf-lax.xsd").read_bytes()
    # A strict validator: each record's metadata against the schema the format advertises.
    schema = etree.XMLSchema(etree.fromstring(fetched.content))
    records = _get(site, verb="ListRecords", metadataPrefix="rdf").findall(f".//{OAI}metadata")
    assert records
    for metadata in records:
        (payload,) = list(metadata)
        assert payload.tag == f"{{{RDF_NS}}}RDF"
        assert schema.validate(etree.ElementTree(payload)), schema.error_log
