"""Optional error reporting to Sentry (``SENTRY_DSN``), initialised from the settings.

Only unhandled errors and error-level log records are sent (no performance tracing unless
``SENTRY_TRACES_SAMPLE_RATE`` is set). No secrets or personal data: no local variables of stack
frames, no request bodies, no cookies or user e-mail addresses (``send_default_pii=False``), and
the credential headers are scrubbed even if a later setting changed that.
"""

from __future__ import annotations

from typing import Any

_SECRET_HEADERS = {"authorization", "x-api-key", "cookie"}


def _scrub(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any]:
    headers = (event.get("request") or {}).get("headers")
    if isinstance(headers, dict):
        for name in list(headers):
            if name.lower() in _SECRET_HEADERS:
                headers[name] = "[Filtered]"
    return event


def init_sentry(*, dsn: str, environment: str, traces_sample_rate: float) -> None:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    from stardag_site.version import server_version

    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        release=f"stardag-site@{server_version()}",
        integrations=[DjangoIntegration()],
        send_default_pii=False,
        # Frames' local variables hold raw API keys and tokens (``raw_key`` in the key lookup):
        # never send them. Request bodies carry task data: not sent either.
        include_local_variables=False,
        max_request_body_size="never",
        traces_sample_rate=traces_sample_rate,
        before_send=_scrub,  # type: ignore[arg-type]  # sentry's Event is a TypedDict
    )
