"""Golden tests over the real corpus: every real record, through the pipeline, against our goldens.

The records are read from the standards folder (``real_records/`` and AMB's valid examples; see
:mod:`tests.support.real_corpus`), the expected projections are ours, in ``tests/golden/real/``.
After a deliberate crosswalk change, regenerate and *review* the goldens::

    python -m tests.support.real_corpus --update && git diff tests/golden/real
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support import real_corpus
from tests.support.standards import absent_param, standards_dir


def _sources() -> list[Any]:
    folder = standards_dir()
    if folder is None:
        return [absent_param("real_records/README.md", "")]
    return real_corpus.source_files(folder)


@pytest.mark.parametrize("relative", _sources())
def test_real_records_match_their_goldens(relative: str) -> None:
    folder = standards_dir()
    assert folder is not None
    found = real_corpus.as_golden(real_corpus.outcomes(folder, relative))
    path = real_corpus.golden_path(relative)
    if not found:
        assert not path.exists(), f"{relative} has no records now, but a golden file"
        return
    assert path.exists(), (f"no golden file for {relative}: write one with "
                           "`python -m tests.support.real_corpus --update` and review it")
    expected = json.loads(path.read_text("utf-8"))
    assert sorted(found) == sorted(expected), (
        f"{relative}: the records read are not the golden ones")
    differing = {key: {"expected": expected[key], "found": found[key]}
                 for key in sorted(found) if found[key] != expected[key]}
    assert not differing, (
        f"{len(differing)} record(s) of {relative} differ from {path.name}; the first: "
        + json.dumps(dict(list(differing.items())[:1]), ensure_ascii=False, indent=1))


def test_every_golden_file_has_its_source() -> None:
    folder = standards_dir()
    if folder is None:
        pytest.skip("the standards folder is absent: nothing to compare the goldens with")
    expected = {real_corpus.golden_path(r) for r in real_corpus.source_files(folder)}
    stale = sorted(str(p.relative_to(real_corpus.GOLDEN))
                   for p in real_corpus.GOLDEN.rglob("*.json") if p not in expected)
    assert not stale, f"golden files whose corpus file is gone: {stale}"
