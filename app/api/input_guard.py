"""What every API schema may take for granted about its input.

A JSON body must parse: one nested too deeply for Python's parser (``[[[[…`` ten thousand
levels deep) or holding a number too long to convert is a 400 here instead of an error deep
inside the schema library. Text must be storable in PostgreSQL, which cannot hold a NUL
character, nor can UTF-8 carry an unpaired surrogate (``\\ud800``): such a string in a
body or a query string is a 422 naming its field, before any query sees it.
"""

from __future__ import annotations

import json
from typing import Any

from flask import request

from app.errors import AppError, ValidationFailed

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
UNSTORABLE = "Must not contain NUL characters or unpaired surrogates."


class MalformedJson(AppError):
    message = "The body is not valid JSON."


def _storable(text: str) -> bool:
    if "\x00" in text:
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _first_unstorable(body: Any) -> str | None:
    """The top-level field holding the first string (key or value) that cannot be stored.

    Walked with a stack, not recursion: a body may be nested as deep as the parser allows.
    """
    if isinstance(body, dict):
        if not all(_storable(key) for key in body):
            return "_body"
        pending = list(body.items())
    else:
        pending = [("_body", body)]
    while pending:
        field, value = pending.pop()
        if isinstance(value, str) and not _storable(value):
            return field
        if isinstance(value, dict):
            if not all(_storable(key) for key in value):
                return field
            pending.extend((field, item) for item in value.values())
        elif isinstance(value, list):
            pending.extend((field, item) for item in value)
    return None


def _json_body() -> Any:
    data = request.get_data(cache=True)  # a body over MAX_CONTENT_LENGTH is a 413 here
    if request.content_length is None:
        # A chunked body is cut at MAX_CONTENT_LENGTH; reading on raises the 413 werkzeug
        # keeps for more data, where the cut body might otherwise still parse.
        request.stream.read(1)
    if not data:
        return None
    try:
        return json.loads(data.decode("utf-8"))
    except RecursionError:
        raise MalformedJson("The body is nested too deeply.") from None
    except ValueError:  # broken JSON, bad UTF-8, a number with thousands of digits
        raise MalformedJson() from None


def check_api_input() -> None:
    """Refuse API input no schema should have to cope with (a ``before_request`` hook)."""
    if not request.path.startswith("/api/"):
        return
    for name, value in request.args.items(multi=True):
        if not (_storable(name) and _storable(value)):
            raise ValidationFailed(fields={name if _storable(name) else "_query": [UNSTORABLE]})
    if request.method in BODY_METHODS and request.is_json:
        found = _first_unstorable(_json_body())
        if found is not None:
            raise ValidationFailed(fields={found: [UNSTORABLE]})
