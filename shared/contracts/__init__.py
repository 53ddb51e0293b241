"""Versioned contracts (pydantic only): declarations, recordations, events, case workflow I/O."""
