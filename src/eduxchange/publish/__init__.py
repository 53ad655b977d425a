"""Republishing the catalogue: the OAI-PMH provider, writers, the change feed, exports, reports, pages."""
