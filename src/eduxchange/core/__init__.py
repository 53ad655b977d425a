"""The core types every stage shares: errors, models, OAI-PMH datestamps, safe XML, the configuration."""
