"""One page of a listing: the rows asked for and how many there are in all."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select

from app.extensions import db

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    per_page: int


def paginate(ordered: Select[Any], page: int, per_page: int) -> Page[Any]:
    """One page of the query's rows and how many there are in all (``ordered`` carries its
    ORDER BY), in one statement: the count is a window over every row, taken before the
    page is cut. Only a page past the end, which has no row to carry it, counts apart."""
    counted = ordered.add_columns(func.count().over().label("total"))
    rows = db.session.execute(counted.offset((page - 1) * per_page).limit(per_page)).all()
    if rows:
        return Page([row[0] for row in rows], rows[0].total, page, per_page)
    everything = ordered.order_by(None).subquery()
    total = db.session.scalar(select(func.count()).select_from(everything)) or 0
    return Page([], total, page, per_page)
