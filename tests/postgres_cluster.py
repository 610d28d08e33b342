"""Moved to ``tests.support.postgres``; this name is kept only so that older imports still work."""

from tests.support.postgres import free_port, postgres_bin, postgres_cluster

__all__ = ["free_port", "postgres_bin", "postgres_cluster"]
