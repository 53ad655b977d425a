"""Keep the layers honest (STYLE.md): imports only go downward, one module owns requests.

The folders of ``src/eduxchange`` are the pipeline's stages (``core``, ``harvesting``,
``crosswalks`` and ``normalize``, ``catalog``, ``store``, ``publish``); the layers below are
per module inside them, because a stage holds both pure steps and the composition on top.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "eduxchange"

# Lower number = lower layer. A module may import only from its own layer or below. A key names
# a module or a folder (dotted, under eduxchange); the longest key that contains a module wins.
LAYERS = {
    "core.errors": 0, "core.models": 0, "core.dates": 0, "core.record": 0, "core.logs": 0,
    "core.xmlsafe": 1, "core.config": 1,
    "harvesting.response": 1, "harvesting.formats": 1,
    "normalize": 1, "crosswalks": 1,
    "catalog.vocab": 1, "catalog.validate": 1, "catalog.merge": 1, "catalog.sets": 1, "catalog.parallel": 0,
    "publish.rdf": 1, "publish.writers": 1, "publish.changes": 1,
    "harvesting.transport": 2, "store": 2, "harvesting.client": 2,
    "harvesting.harvester": 3, "catalog.normalization": 3, "harvesting.probe": 3,
    "publish.export": 3, "publish.report": 3, "publish.provider": 3,
    "pipeline": 4, "publish.server": 4, "publish.web": 4, "workers": 4.5,
    "publish.ops": 3, "publish.wsgi": 4, "publish.prefork": 4, "schedule": 5,
    "demo": 5, "__init__": 5,
}
# Package __init__ files of the stage folders hold only a docstring: the lowest layer.
STAGES = {"core", "harvesting", "catalog", "publish"}


def _dotted(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module a file imports, as dotted names under ``eduxchange`` (no prefix) or absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = _dotted(path).split(".")
    package = here if here[-1] == "__init__" else here[:-1]
    if package and package[-1] == "__init__":
        package = package[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                base = package[: len(package) - (node.level - 1)]
                module = ".".join([*base, *([node.module] if node.module else [])])
                if node.module:
                    names.add(module)
                for alias in node.names:  # `from . import x` may name a module
                    names.add(f"{module}.{alias.name}" if module else alias.name)
            elif node.module:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _unit(dotted: str) -> str | None:
    """The LAYERS key of a module under eduxchange, or None for a name outside it."""
    parts = dotted.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        if key in LAYERS:
            return key
    return None


def test_every_module_has_a_layer() -> None:
    for path in PACKAGE.rglob("*.py"):
        dotted = _dotted(path)
        if dotted in {f"{stage}.__init__" for stage in STAGES}:
            assert ast.get_docstring(ast.parse(path.read_text("utf-8"))), path
            continue
        assert _unit(dotted.removesuffix(".__init__")) is not None, f"{dotted} has no layer"


def test_imports_only_go_downward() -> None:
    for path in PACKAGE.rglob("*.py"):
        dotted = _dotted(path).removesuffix(".__init__")
        unit = _unit(dotted)
        if unit is None:
            continue  # a stage folder's docstring-only __init__
        for imported in _imports(path):
            if imported.startswith("eduxchange."):
                imported = imported.removeprefix("eduxchange.")
            target = _unit(imported)
            if target is not None and target != unit:
                assert LAYERS[target] <= LAYERS[unit], f"{dotted} ({unit}) imports {imported}"


def test_stage_folders_import_nothing() -> None:
    """A stage's __init__ is its signpost, not a second way to reach its modules."""
    for stage in STAGES:
        assert not _imports(PACKAGE / stage / "__init__.py") - {"__future__"}, stage


def test_only_transport_imports_requests_and_nothing_imports_click() -> None:
    for path in PACKAGE.rglob("*.py"):
        imports = _imports(path)
        if _dotted(path) != "harvesting.transport":
            assert "requests" not in imports, path
        assert "click" not in imports and "rich" not in imports, path


def test_core_types_use_only_the_standard_library() -> None:
    for name in ("errors", "models", "dates", "record"):
        for imported in _imports(PACKAGE / "core" / f"{name}.py"):
            assert imported.split(".")[0] in {"__future__", "dataclasses", "typing", "re",
                                              "datetime", "core"}, (name, imported)


def test_pure_steps_do_no_io() -> None:
    """Crosswalks, normalizers, vocabularies, validation and merging take no network or store."""
    io_modules = {"requests", "sqlite3", "socket", "urllib.request", "http", "store",
                  "harvesting.transport", "harvesting.client"}
    pure = [PACKAGE / "catalog" / "merge.py", PACKAGE / "catalog" / "validate.py",
            PACKAGE / "catalog" / "sets.py",
            *(PACKAGE / "crosswalks").glob("*.py"), *(PACKAGE / "normalize").glob("*.py")]
    assert all(path.exists() for path in pure[:3])
    for path in pure:
        imported = _imports(path)
        hits = {name for name in imported for io in io_modules
                if name == io or name.startswith(io + ".")}
        assert not hits, (path, hits)


def _imported_names(path: Path) -> set[str]:
    """Every name a file imports with ``from ... import name``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
            for alias in node.names}


def test_only_the_sqlite_backend_knows_sqlite() -> None:
    """The store seam is whole (STYLE.md): everything outside ``store/sqlite/`` uses the
    protocols of ``store/base.py``, so a second backend touches no provider, server or
    catalogue code. Only the opener (``store.backends``) and the public API's re-exports
    (``store/__init__``, ``eduxchange/__init__``) name the SQLite classes."""
    cli = PACKAGE.parents[1] / "cli"
    files = [*PACKAGE.rglob("*.py"), *cli.rglob("*.py")]
    assert len(files) > 60 and (cli / "main.py") in files
    openers = {"store.backends", "store.__init__", "__init__"}
    for path in files:
        inside = path.is_relative_to(PACKAGE)
        dotted = _dotted(path) if inside else path.name
        if dotted.startswith("store.sqlite"):
            continue
        imports = _imports(path) if inside else {
            node.module or "" for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.ImportFrom)} | {
            alias.name for node in ast.walk(ast.parse(path.read_text("utf-8")))
            if isinstance(node, ast.Import) for alias in node.names}
        assert "sqlite3" not in imports, f"{path} imports sqlite3"
        if dotted in openers:
            continue
        backend = {name for name in imports
                   if name.removeprefix("eduxchange.").startswith("store.sqlite")}
        assert not backend, f"{path} imports the SQLite backend: {sorted(backend)}"
        named = {name for name in _imported_names(path) if name.startswith(("SQLite", "ReadOnlySQLite"))}
        assert not named, f"{path} imports {sorted(named)}: use the protocols of store/base.py"


def test_pyproject_lists_every_package() -> None:
    """setuptools installs only the packages pyproject lists: a new folder left out works in an
    editable install (CI's) and breaks ``pip install .`` (a user's)."""
    import tomllib

    root = PACKAGE.parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
                 ["tool"]["setuptools"]["packages"])
    found = {".".join(("eduxchange", *init.parent.relative_to(PACKAGE).parts))
             for init in PACKAGE.rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)
