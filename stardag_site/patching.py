"""The one way a service applies a PATCH to a row.

Which request keys count as "changed" is the endpoint's rule and stays with its service: the
workspace endpoints treat ``null`` as "leave unchanged", the legacy ``PATCH /builds/{id}``
clears a field on an explicit ``null``. Once that is decided, every service writes the same
way: set the changed fields and save exactly those, never the whole row, so a concurrent PATCH
of other fields is not overwritten with stale values.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Model

M = TypeVar("M", bound=Model)


def save_patch(instance: M, changes: Mapping[str, Any], *,
               empty_clears: Collection[str] = ()) -> M:
    """Set each field of ``changes`` on ``instance`` and save only those fields.

    For fields in ``empty_clears`` an empty value (``""``, ``0``) is stored as null. No changes,
    no query. Returns ``instance``.
    """
    for field, value in changes.items():
        setattr(instance, field, (value or None) if field in empty_clears else value)
    if changes:
        with transaction.atomic():
            instance.save(update_fields=list(changes))
    return instance
