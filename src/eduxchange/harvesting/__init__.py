"""Harvesting: HTTP transport, the OAI-PMH client and response parser, format choice, the harvester."""
