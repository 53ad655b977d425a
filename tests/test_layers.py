"""Keep the layers honest (STYLE.md): imports only go downward, one module owns requests."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "eduxchange"

# Lower number = lower layer. A module may import only from its own layer or below.
LAYERS = {
    "errors": 0, "models": 0, "dates": 0,
    "xmlsafe": 1, "response": 1, "formats": 1, "config": 1, "normalize": 1, "crosswalks": 1,
    "vocab": 1, "validate": 1, "rdf": 1, "merge": 1,
    "transport": 2, "store": 2, "client": 2,
    "harvester": 3, "catalog": 3, "export": 3, "probe": 3, "report": 3,
    "pipeline": 4, "__init__": 5,
    "demo": 5, "writers": 1, "changes": 1, "provider": 3, "server": 4, "web": 4,
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                base = (node.module or "").split(".")[0]
                if base:
                    names.add(base)
                else:
                    names.update(alias.name for alias in node.names)
            elif node.module:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def _module(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else rel.stem


def test_imports_only_go_downward() -> None:
    for path in PACKAGE.rglob("*.py"):
        module = _module(path)
        layer = LAYERS[module]
        for imported in _imports(path):
            if imported in LAYERS and imported != module:
                assert LAYERS[imported] <= layer, f"{path.name} ({module}) imports {imported}"


def test_only_transport_imports_requests_and_nothing_imports_click() -> None:
    for path in PACKAGE.rglob("*.py"):
        imports = _imports(path)
        if _module(path) != "transport":
            assert "requests" not in imports, path
        assert "click" not in imports and "rich" not in imports, path


def test_core_types_use_only_the_standard_library() -> None:
    for name in ("errors", "models", "dates"):
        for imported in _imports(PACKAGE / f"{name}.py"):
            assert imported.split(".")[0] in {"__future__", "dataclasses", "typing", "re",
                                              "datetime", "errors", "models"}, (name, imported)


def test_pure_steps_do_no_io() -> None:
    """Crosswalks, normalizers, vocabularies, validation and merging take no network or store."""
    io_modules = {"requests", "sqlite3", "socket", "urllib.request", "http", "store", "transport",
                  "client"}
    pure = [PACKAGE / "merge.py", PACKAGE / "validate.py", *(PACKAGE / "crosswalks").glob("*.py"),
            *(PACKAGE / "normalize").glob("*.py")]
    for path in pure:
        if path.exists():
            assert not (_imports(path) & io_modules), path
