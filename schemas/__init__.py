"""JSON Schema, JSON-LD context, SHACL shapes and XML Schemas, shipped as package data (eduxchange.schemas)."""
