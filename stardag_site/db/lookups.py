"""Equality that PostgreSQL cannot answer from an index, to leave it one index to choose.

Why: a task is looked up by its key (its SDK ``task_id`` in an environment) on every SDK call,
and ``tasks_task`` has a dozen indexes that lead with ``environment_id``. Without statistics
(a table never analysed: autovacuum off, or a new deployment), PostgreSQL estimates that
``environment_id = $1`` matches one row of a table of fewer than about 1,500 tasks, exactly as
the unique key does, and breaks the tie for the smallest index: the foreign-key index on
``environment_id``, deduplicated to a page or two. The "one row" lookup then walks every task of
the environment (~500 buffers per call at 1,000 tasks, issue 10), and a connection keeps that
generic plan for its whole life.

The key's lookups therefore name the environment with ``IS NOT DISTINCT FROM``, which no index
serves, so the only index path is the unique index that leads with ``task_id``; the environment
is checked on the one row it returns. The column is never NULL, so the meaning is plain
equality. Other databases get ``=``: SQLite picks the unique index for a full key anyway.
"""

from __future__ import annotations

from typing import Any

from django.db.models.lookups import Exact


def unindexed_equality(vendor: str) -> str:
    """The operator of an equality no index serves on ``vendor`` (see the module docstring),
    for hand-written SQL; ``UnindexedExact`` is the same for the ORM."""
    return "IS NOT DISTINCT FROM" if vendor == "postgresql" else "="


class UnindexedExact(Exact):
    """``lhs = rhs`` that no index can serve on PostgreSQL (see the module docstring).

    Used as an expression, not registered: ``filter(UnindexedExact(F("column"), value))``.
    """

    lookup_name = "unindexed_exact"

    def get_rhs_op(self, connection: Any, rhs: str) -> str:
        return f"{unindexed_equality(connection.vendor)} {rhs}"
