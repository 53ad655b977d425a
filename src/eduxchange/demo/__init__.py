"""``eduxchange demo``: a whole alliance on one machine, in one command.

Starts the sample members (:mod:`.members`: pyoai's OAI-PMH server with bundled,
real-world-shaped records in IEEE LOM, IMS MD 1.2 and oai_dc), writes an
``alliance.toml`` for them, harvests and normalizes them into a catalogue, and
then serves the unified catalogue. Everything stays on loopback.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..core.config import Config, load_config
from .members import RunningMember, serve_members

__all__ = ["write_config", "demo_alliance", "RunningMember"]


def write_config(path: Path, members: list[RunningMember], *, base_uri: str,
                 store: str = "catalog.sqlite") -> Path:
    """Write the demo's ``alliance.toml`` (by default the store beside it) and return its path."""
    lines = ["# Written by `eduxchange demo` for its sample members on loopback.", "",
             "[catalog]", f"store = {json.dumps(store)}", f'base_uri = "{base_uri}"', "",
             "[harvest]", "concurrency = 3", "requests_per_second = 50", "",
             "[feed]", "page_size = 100",
             # OAI-PMH Identify names the catalogue and who runs it (docs/republishing.md).
             'repository_name = "Sample OER alliance catalogue (eduxchange demo)"',
             'admin_email = "catalogue-team@oer-alliance.example.org"']
    for m in members:
        lines += ["", "[[members]]", f'id = "{m.id}"', f'name = "{m.name}"',
                  f'endpoint = "{m.url}"', f'country = "{m.country}"']
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@contextmanager
def demo_alliance(workdir: Path, *, base_uri: str,
                  on_members: Callable[[list[RunningMember]], None] | None = None,
                  store: str | None = None) -> Iterator[Config]:
    """Run the sample members and yield a config for them: a fresh catalogue in ``workdir``,
    or in ``store`` (a PostgreSQL URL, which is used as it is: a database is never emptied)."""
    if store is None:
        for stale in workdir.glob("catalog.sqlite*"):
            stale.unlink()
    with serve_members() as members:
        if on_members is not None:
            on_members(members)
        yield load_config(write_config(workdir / "alliance.toml", members, base_uri=base_uri,
                                       store=store or "catalog.sqlite"))
