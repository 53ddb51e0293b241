"""The platform's own library: versioned contracts, settings, DB, Kafka, auth, HTTP and metrics helpers.

Services import ``shared`` and never each other.
"""
