"""Build tools of the repository (not shipped with the services)."""
