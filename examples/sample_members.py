"""Serve two sample alliance members on loopback, optionally around one command.

    python examples/sample_members.py                 # serve until Ctrl-C
    python examples/sample_members.py -- CMD [ARG...] # serve, run CMD, stop; exits with CMD's code
    python examples/sample_members.py --config my.toml -- CMD ...  # another config to serve for

Member "lom-uni" (port 8765) is pyoai's own OAI-PMH server with 1,200 IEEE LOM
records; member "dc-repo" (port 8766) is a day-granular repository with 300
records in sets. Each run changes a few records (and deletes one), so a second
harvest has something incremental to fetch. Both are the same servers the test
suite uses (tests/support).

When port 8765 or 8766 is taken, the members listen on free ports instead and the
config (default: examples/alliance.toml) is written again with those ports, next to it
as ``<name>.free-ports.toml`` (same directory, so the same catalogue store); CMD's
arguments naming the config are pointed at that copy, and its path is in the
environment as EDUXCHANGE_SAMPLE_CONFIG.
"""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.faulty import DAY, serve_faulty  # noqa: E402
from tests.support.lomgen import lom_xml, make_records  # noqa: E402
from tests.support.pyoai_member import serve_pyoai_member  # noqa: E402


EXAMPLES = Path(__file__).resolve().parent
#: The ports examples/alliance.toml names, tried first so that config works as it is.
PORTS = {"lom-uni": 8765, "dc-repo": 8766}


def _serve(stack: ExitStack, serve: Any, port: int) -> Any:
    """Serve on ``port``; on a free port when it is taken (the caller rewrites the config)."""
    try:
        return stack.enter_context(serve(port))
    except OSError as err:
        if err.errno != errno.EADDRINUSE:
            raise
        return stack.enter_context(serve(0))


def _config_for(template: Path, urls: dict[str, str]) -> Path:
    """``template`` itself when the members are on its ports, else a copy with theirs."""
    text = template.read_text(encoding="utf-8")
    moved = text
    for member, port in PORTS.items():
        actual = urls[member].split(":")[2].split("/")[0]
        moved = re.sub(rf"(//127\.0\.0\.1:){port}\b", rf"\g<1>{actual}", moved)
    if moved == text:
        return template
    written = template.with_name(f"{template.stem}.free-ports.toml")
    header = (f"# Written by examples/sample_members.py: {template.name} with the ports its sample "
              "members listen on now\n# (8765/8766 were taken). Rewritten on every run.\n")
    written.write_text(header + moved, encoding="utf-8")
    return written


def _point_at(command: list[str], template: Path, config: Path) -> list[str]:
    """CMD with each argument naming ``template`` (``PATH`` or ``--config=PATH``) -> ``config``."""
    def same(arg: str) -> bool:
        try:
            return Path(arg).resolve() == template
        except (OSError, ValueError):
            return False

    out = []
    for arg in command:
        name, eq, value = arg.partition("=")
        if same(arg):
            arg = str(config)
        elif eq and name.startswith("-") and same(value):
            arg = f"{name}={config}"
        out.append(arg)
    return out


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    options = argv[:argv.index("--")] if "--" in argv else argv
    template = EXAMPLES / "alliance.toml"
    if options[:1] in (["--config"], ["-c"]) and len(options) == 2:
        template = Path(options[1]).resolve()
    elif options:
        print("usage: sample_members.py [--config ALLIANCE.toml] [-- CMD [ARG...]]",
              file=sys.stderr)
        return 2
    if not template.is_file():
        print(f"sample_members.py: no config at {template}", file=sys.stderr)
        return 2
    lom = make_records(1200, start=datetime(2023, 9, 1), step=timedelta(hours=3),
                       sets=["math", "science", "languages"])
    dc = make_records(300, start=datetime(2024, 1, 1), step=timedelta(hours=7),
                      sets=["math", "physics", "history"], prefix="oai_dc")
    with ExitStack() as stack:
        try:
            uni = _serve(stack, lambda port: serve_pyoai_member(
                lom, batch_size=100, port=port, name="Sample Open University"), PORTS["lom-uni"])
            repo = _serve(stack, lambda port: serve_faulty(
                dc, page_size=50, granularity=DAY, port=port, name="Sample repository"),
                PORTS["dc-repo"])
        except OSError as err:
            print(f"sample_members.py: cannot listen on 127.0.0.1: {err}", file=sys.stderr)
            return 2
        # Something new since the last run: a few records change, one is deleted.
        tick = int(time.time()) % 1000
        for k in range(3):
            uni.backend.update(lom[(tick + k * 97) % len(lom)].identifier, metadata=lom_xml(tick + k))
        uni.backend.delete(lom[tick % len(lom)].identifier)
        config = _config_for(template, {"lom-uni": uni.url, "dc-repo": repo.url})
        print(f"sample members: lom-uni at {uni.url}, dc-repo at {repo.url}", file=sys.stderr)
        if config != template:
            print(f"sample members: ports 8765/8766 were taken; config with the ports in use: "
                  f"{config}", file=sys.stderr)
        if command:
            env = {**os.environ, "EDUXCHANGE_SAMPLE_CONFIG": str(config)}
            try:
                return subprocess.call(_point_at(command, template, config), env=env)
            except OSError as err:
                print(f"sample_members.py: cannot run {command[0]!r}: {err}", file=sys.stderr)
                return 127
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
