"""JSON parsing that reports malformed bodies as the contract's 422 ``json_invalid`` item."""

from __future__ import annotations

import json
from typing import Any

from rest_framework.parsers import JSONParser

from stardag_site.api.errors import RequestValidationError, validation_item


class StrictJSONParser(JSONParser):
    def parse(self, stream: Any, media_type: str | None = None,
              parser_context: dict[str, Any] | None = None) -> Any:
        raw = stream.read() if stream is not None else b""
        if not raw or not raw.strip():
            return None
        try:
            return json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise RequestValidationError(
                [validation_item(["body", exc.start], "Body is not valid UTF-8", "json_invalid",
                                 None, with_input=False)]
            ) from exc
        except json.JSONDecodeError as exc:
            raise RequestValidationError(
                [validation_item(["body", exc.pos], f"JSON decode error: {exc.msg}",
                                 "json_invalid", {}, with_input=False)]
            ) from exc
