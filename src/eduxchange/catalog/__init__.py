"""Normalization into the unified catalogue: vocabularies, validation, merging, the normalization step."""
