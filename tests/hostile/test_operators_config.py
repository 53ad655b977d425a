"""A broken member mapping table (``[catalog] extra_mappings``) is a config error: exit 2 with
the file, the line and what is wrong, found when the config is loaded (before any member is
contacted), never a traceback halfway through a harvest."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

import eduxchange
from eduxchange.core.errors import ConfigError
from eduxchange_cli.main import main
from tests.conftest import write_config
from tests.support.faulty import serve_faulty
from tests.support.lomgen import make_records

LRT = "http://purl.org/dcx/lrmi-vocabs/learningResourceType/"


def _config_with_table(tmp_path: Path, name: str, text: str, endpoint: str) -> tuple[Path, Path]:
    table = tmp_path / "local" / name
    table.parent.mkdir(exist_ok=True)
    table.write_text(text, encoding="utf-8")
    config = write_config(tmp_path / "alliance.toml",
                          [{"id": "m", "endpoint": endpoint, "metadata_prefix": "lom"}])
    # write_config knows no extra_mappings: add the key to its [catalog] table.
    text_ = config.read_text(encoding="utf-8").replace(
        "[catalog]\n", '[catalog]\nextra_mappings = ["local/' + name + '"]\n', 1)
    config.write_text(text_, encoding="utf-8")
    return config, table


@pytest.mark.parametrize(("name", "text", "line", "what"), [
    # no header: the first row is data
    ("learningResourceType.tsv", f"text\tArbeitsblatt\t{LRT}activityPlan\n", 1, "header"),
    ("learningResourceType.tsv", "", 1, "empty file"),
    # an unknown concept on line 3 (a comment line before it counts)
    ("learningResourceType.tsv",
     f"source\tvalue\tconcept\n# ours\ntext\tArbeitsblatt\t{LRT}no-such-concept\n", 3,
     "not a concept"),
    # a concept of another field's scheme
    ("member.tsv", "field\tsource\tvalue\tconcept\n"
                   f"about\ttext\tErdkunde\t{LRT}activityPlan\n", 2, "not a concept"),
    ("member.tsv", f"field\tsource\tvalue\tconcept\ncolour\ttext\tx\t{LRT}textbook\n", 2,
     "unknown field"),
    ("learningResourceType.tsv", "source\tvalue\tconcept\ntext\tx\n", 2, "columns"),
])
def test_a_broken_mapping_table_exits_2_with_file_and_line(tmp_path: Path, name: str, text: str,
                                                           line: int, what: str) -> None:
    with serve_faulty(make_records(2, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
                      ) as server:
        config, table = _config_with_table(tmp_path, name, text, server.url)
        for command in (["harvest", "-q"], ["normalize", "-q"], ["status"]):
            result = CliRunner().invoke(main, [command[0], "-c", str(config), *command[1:]])
            assert result.exit_code == 2, (command, result.output)
            # A clean exit with a message, not an exception escaping the command.
            assert isinstance(result.exception, SystemExit), result.exception
            message = result.stderr
            assert f"{config}: [catalog]: key 'extra_mappings'" in message, message
            assert f"{table}:{line}:" in message and what in message, message
        assert server.request_count == 0  # found before any member was contacted
    with pytest.raises(ConfigError, match=f"{table}:{line}:"):
        eduxchange.load_config(config)


def test_a_good_table_still_loads_and_harvests(tmp_path: Path) -> None:
    with serve_faulty(make_records(3, start=datetime(2024, 1, 1), step=timedelta(minutes=1))
                      ) as server:
        config, _ = _config_with_table(
            tmp_path, "learningResourceType.tsv",
            f"source\tvalue\tconcept\ntext\tArbeitsblatt\t{LRT}activityPlan\n", server.url)
        result = CliRunner().invoke(main, ["harvest", "-c", str(config), "-q"])
        assert result.exit_code == 0, result.output
