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
    """Count the query's rows and load one page of it (``ordered`` carries its ORDER BY)."""
    counted = ordered.order_by(None).subquery()
    total = db.session.scalar(select(func.count()).select_from(counted)) or 0
    items = db.session.scalars(ordered.offset((page - 1) * per_page).limit(per_page))
    return Page(list(items), total, page, per_page)
