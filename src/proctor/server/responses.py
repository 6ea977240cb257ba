"""``JSONResponse`` rendered by orjson: a check's answer is encoded on every request."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse

_STARLETTE = JSONResponse(None)  # its encoder, for what orjson refuses


def json_bytes(content: Any) -> bytes:
    """The same compact UTF-8 JSON as Starlette's, several times faster.

    What orjson will not encode (an integer past 64 bits, a key that is not a
    string) falls back to Starlette's encoder, which says the same as before.
    """
    try:
        return orjson.dumps(content)
    except orjson.JSONEncodeError:
        return _STARLETTE.render(content)


class FastJSONResponse(JSONResponse):
    """``JSONResponse`` encoded by ``json_bytes``."""

    def render(self, content: Any) -> bytes:
        return json_bytes(content)
