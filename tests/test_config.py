"""The config file: valid files load; invalid ones name the file, the member and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from eduxchange import load_config
from eduxchange.core.errors import ConfigError

GOOD = """
[catalog]
store = "data/catalog.sqlite"
base_uri = "https://catalog.example.org/"

[harvest]
concurrency = 2
requests_per_second = 10

[[members]]
id = "ouc"
name = "Open University of China"
endpoint = "https://example.org/oai"
metadata_prefix = "lom"
sets = ["math"]
country = "cn"

[[members]]
id = "fr-edu"
endpoint = "http://127.0.0.1:8080/oai"
timeout = 5
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "alliance.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.catalog.store == tmp_path / "data" / "catalog.sqlite"
    ouc, fr = config.members
    assert ouc.name == "Open University of China" and ouc.sets == ("math",)
    assert ouc.country == "CN" and ouc.metadata_prefix == "lom"
    assert ouc.settings.requests_per_second == 10  # inherited from [harvest]
    assert fr.name == "fr-edu" and fr.metadata_prefix is None
    assert fr.settings.timeout == 5.0 and config.harvest.timeout == 180.0
    assert config.harvest.concurrency == 2
    assert config.member("fr-edu") is fr


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('endpoint = "https://example.org/oai"', 'endpoint = "ftp://example.org/oai"'),
         "members[0] (id 'ouc'): key 'endpoint'"),
        (('id = "fr-edu"', 'id = "ouc"'), "members[1] (id 'ouc'): key 'id': duplicate"),
        (('id = "fr-edu"', 'id = "bad id!"'), "key 'id'"),
        (('timeout = 5', 'timeout = "soon"'), "members[1] (id 'fr-edu'): key 'timeout': must be a number"),
        (('timeout = 5', 'tiemout = 5'), "members[1] (id 'fr-edu'): key 'tiemout': unknown key"),
        (('concurrency = 2', 'concurrency = 0'), "[harvest]: key 'concurrency': must be greater than 0"),
        (('sets = ["math"]', 'sets = "math"'), "key 'sets'"),
        (('country = "cn"', 'country = "China"'), "key 'country'"),
        (('[catalog]', '[catalogue]\n[catalog]'), "key 'catalogue': unknown section"),
    ],
)
def test_invalid_config_names_file_member_and_key(tmp_path: Path, change: tuple[str, str],
                                                  expected: str) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    assert message.startswith(str(path)) and expected in message


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found.*--config"):
        load_config(tmp_path / "nope.toml")


def test_not_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[[members]\nid="))


def test_unknown_member_lists_known_ids(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match="known: ouc, fr-edu"):
        config.member("nope")


def test_feed_page_size_defaults_and_is_validated(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, GOOD)).feed.page_size == 100
    assert load_config(write(tmp_path, GOOD + "\n[feed]\npage_size = 250\n")).feed.page_size == 250
    for bad, expected in (("page_size = 0", "must be between 1 and"),
                          ("page_size = 2.5", "must be a whole number"),
                          ("page_size = true", "must be a whole number"),
                          ("pagesize = 10", "key 'pagesize': unknown key")):
        path = write(tmp_path, GOOD + f"\n[feed]\n{bad}\n")
        with pytest.raises(ConfigError) as info:
            load_config(path)
        assert str(info.value).startswith(str(path)) and "[feed]" in str(info.value)
        assert expected in str(info.value)
