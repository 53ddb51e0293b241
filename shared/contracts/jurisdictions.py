"""Jurisdictions the platform has a rule pack for.

A declaration or recordation for any other jurisdiction is refused with a clear
reason instead of being assessed under the wrong law.
"""

SUPPORTED_JURISDICTIONS: frozenset[str] = frozenset({"CN", "EU", "US"})
