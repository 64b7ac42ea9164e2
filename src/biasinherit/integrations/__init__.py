"""Integrations with other tools' own mechanisms (each module imports its tool when imported)."""
