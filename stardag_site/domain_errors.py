"""Domain errors: what a service raises when a business rule refuses an operation.

Services never raise HTTP errors. Each kind below is mapped to a status code once, in
``stardag_site.api.exceptions`` (404, 403, 409, 400), with the message as the ``detail``
sentence; callers outside HTTP (the ``bootstrap`` command, the admin) catch ``DomainError`` and
show the message. The locks app keeps its own richer errors (``locks.services.LockError``),
mapped in its views because their bodies carry more than a sentence.
"""

from __future__ import annotations


class DomainError(Exception):
    """A refused operation; ``message`` is a sentence fit to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(DomainError):
    """The object named does not exist, or not for this caller (404)."""


class NotPermittedError(DomainError):
    """The caller's role (or the object's kind) does not allow the operation (403)."""


class ConflictError(DomainError):
    """The operation collides with existing state: a taken slug, a pending invite (409)."""


class RuleViolationError(DomainError):
    """The operation would break an invariant, e.g. remove the last owner (400)."""


class LimitReachedError(DomainError):
    """A quota or rate limit refuses the operation (429 in the §8.6 shape).

    ``retry_after`` is set for a rate limit (seconds until the next attempt can succeed) and
    None for a quota that waiting alone does not lift.
    """

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
