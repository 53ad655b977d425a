"""SKOS concept schemes and mapping tables, shipped as package data (eduxchange.vocabularies)."""
