"""`examples/sample_members.py` still works when its fixed ports are taken: the members listen
on free ports and the command runs against a config written with those ports."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXED_PORTS = (8765, 8766)


@contextmanager
def _taken(ports: tuple[int, ...]) -> Iterator[None]:
    """Listen on ``ports`` for the block (already taken by someone else is as good)."""
    with ExitStack() as stack:
        for port in ports:
            sock = stack.enter_context(socket.socket())
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT only
            try:
                sock.bind(("127.0.0.1", port))
                sock.listen()
            except OSError:
                pass  # someone listens there already: taken all the same
        yield


def test_sample_members_pick_free_ports_when_theirs_are_taken(tmp_path: Path) -> None:
    template = tmp_path / "alliance.toml"
    shutil.copy(ROOT / "examples" / "alliance.toml", template)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with _taken(FIXED_PORTS):
        done = subprocess.run(
            [sys.executable, str(ROOT / "examples" / "sample_members.py"), "--config",
             str(template), "--", sys.executable, "-m", "eduxchange_cli.main", "harvest",
             f"--config={template}", "-q", "--json"],
            env=env, capture_output=True, timeout=180, cwd=tmp_path)
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr
    assert "Traceback" not in stderr and "were taken" in stderr
    written = tmp_path / "alliance.free-ports.toml"
    assert str(written) in stderr
    members = tomllib.loads(written.read_text(encoding="utf-8"))["members"]
    ports = {int(m["endpoint"].split(":")[2].split("/")[0]) for m in members}
    assert len(ports) == 2 and not ports & set(FIXED_PORTS)
    results = json.loads(done.stdout)["results"]
    assert [(r["member"], r["state"]) for r in results] == [("lom-uni", "ok"), ("dc-repo", "ok")]
    assert all(r["new"] > 0 for r in results)
    assert (tmp_path / "catalog.sqlite").exists()  # the copy's store is the template's
