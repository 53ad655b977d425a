"""Shared test helpers: write an alliance config for servers running on loopback."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import eduxchange

#: Fast settings for tests: no politeness delay, short backoff, short timeouts.
FAST = {"requests_per_second": 1000, "backoff": 0.05, "max_backoff": 0.2, "timeout": 5,
        "max_retries": 3}


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return repr(value)


def write_config(path: Path, members: list[dict[str, Any]], harvest: dict[str, Any] | None = None,
                 *, feed: dict[str, Any] | None = None) -> Path:
    """An alliance.toml; ``feed`` (e.g. ``SERVING``) adds a ``[feed]`` section."""
    lines = ['[catalog]', 'store = "catalog.sqlite"',
             'base_uri = "https://catalog.example.org/"', "", "[harvest]"]
    lines += [f"{k} = {_toml_value(v)}" for k, v in {**FAST, **(harvest or {})}.items()]
    if feed is not None:
        lines += ["", "[feed]"] + [f"{k} = {_toml_value(v)}" for k, v in feed.items()]
    for member in members:
        lines += ["", "[[members]]"] + [f"{k} = {_toml_value(v)}" for k, v in member.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


#: The ``[feed]`` keys a catalogue needs before it is served (OAI-PMH Identify's adminEmail).
SERVING: dict[str, Any] = {"admin_email": "oai-admin@alliance.example.org"}

ConfigMaker = Callable[..., eduxchange.Config]


@pytest.fixture
def make_config(tmp_path: Path) -> ConfigMaker:
    """``make_config([{"id": ..., "endpoint": ...}], harvest={...})`` -> a loaded Config."""

    def make(members: list[dict[str, Any]], harvest: dict[str, Any] | None = None
             ) -> eduxchange.Config:
        return eduxchange.load_config(write_config(tmp_path / "alliance.toml", members, harvest))

    return make


def pytest_report_header() -> str:
    """Say whether the public schemas and samples are at hand (tests/support/standards.py)."""
    from tests.support.standards import describe

    return describe()
