"""Offline language identification of untagged texts, with ``py3langid``, only where confident.

Used for one thing: telling apart several untagged descriptions of one record (a Portuguese and
an English abstract), so that each gets its language-map key. ``py3langid`` (the maintained
fork of Lui & Baldwin's ``langid.py``) was chosen because it is offline with its model
inside the wheel (no download at run time, unlike fastText-based detectors), deterministic
(``langdetect`` is random unless seeded, and unmaintained), and small and fast (one naive Bayes
model over byte n-grams; ``lingua`` is far more accurate on short texts but ships hundreds of
megabytes of models). Descriptions are long enough for it.

A guess is only taken when the text is long enough to judge (:data:`MIN_LENGTH`) and the
normalised probability is at least :data:`MIN_PROBABILITY`; otherwise the text stays untagged.
The model loads on first use (about a second), so records that never need it never pay.
"""

from __future__ import annotations

import functools
from typing import Any

from .languages import normalize_language

__all__ = ["MIN_LENGTH", "MIN_PROBABILITY", "detect_language"]

#: Texts shorter than this (in characters) are not identified: too little evidence.
MIN_LENGTH = 40
#: The lowest normalised probability a guess needs to be taken.
MIN_PROBABILITY = 0.95


@functools.cache
def _identifier() -> Any:
    # Imported here: the model is loaded (and numpy imported) only by a record that needs it.
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


@functools.lru_cache(maxsize=1024)
def detect_language(text: str) -> str | None:
    """The BCP 47 tag of the language ``text`` is written in, or ``None`` when not confident.

    >>> detect_language("Esta dissertação apresenta o desenvolvimento de um novo algoritmo")
    'pt'
    """
    if len(text) < MIN_LENGTH:
        return None
    code, probability = _identifier().classify(text)
    if float(probability) < MIN_PROBABILITY:
        return None
    return normalize_language(str(code))
