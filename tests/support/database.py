"""Reading and writing rows from tests without holding a Flask app context.

Requests in tests must run in their own app context (as in production), so tests look at
the database through short sessions of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, Select, event, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def scalar(self, statement: Select[Any]) -> Any:
        with self.session() as session:
            return session.scalar(statement)

    def scalars(self, statement: Select[Any]) -> list[Any]:
        with self.session() as session:
            return list(session.scalars(statement))

    def get(self, model: type[T], ident: Any) -> T | None:
        with self.session() as session:
            return session.get(model, ident)

    def count(self, model: type[Any]) -> int:
        return int(self.scalar(select(func.count()).select_from(model)) or 0)

    def add(self, *rows: Any) -> None:
        with self.session() as session:
            session.add_all(rows)
            session.commit()

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """Every SQL statement sent while the block runs, by the app or anyone else."""
        seen: list[str] = []

        def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            seen.append(statement)

        event.listen(self.engine, "before_cursor_execute", record)
        try:
            yield seen
        finally:
            event.remove(self.engine, "before_cursor_execute", record)
