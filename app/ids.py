"""Row ids as callers may send them.

Ids are PostgreSQL ``integer`` columns: a larger number sent in a path or a body would make
the database refuse the query (a 500). Paths only match ids in range, so anything else is a
404 like any unknown id; bodies validate against the same bounds (422 naming the field).
"""

from __future__ import annotations

from typing import Any

from marshmallow import validate
from werkzeug.routing import IntegerConverter, Map

MAX_ID = 2**31 - 1

ID_RANGE = validate.Range(min=1, max=MAX_ID)


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: at most MAX_ID (documented as the path's maximum)."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)
