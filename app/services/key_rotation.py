"""Re-encrypting every secret stored at rest under the newest encryption key.

Every column whose name ends in ``_encrypted`` holds a Fernet token (see
app/security/crypto.py); they are found from the models, so a new one is rotated too.
Rows are walked by primary key in batches, one commit per batch. A token the newest key
already opens is left alone, so a second run changes nothing, and a run cut short can
simply be started again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cryptography.fernet import InvalidToken
from sqlalchemy import Column, select, update

from app.extensions import db
from app.security import crypto

logger = logging.getLogger(__name__)

ENCRYPTED_SUFFIX = "_encrypted"


@dataclass
class ColumnRotation:
    """What rotating one column did."""

    table: str
    column: str
    rotated: int = 0
    already_current: int = 0
    # Rows no configured key opens (a key was dropped too early): left untouched.
    unreadable: list[Any] = field(default_factory=list)


def encrypted_columns() -> list[Column[Any]]:
    return [
        column
        for table in db.metadata.sorted_tables
        for column in table.columns
        if column.name.endswith(ENCRYPTED_SUFFIX)
    ]


def rotate_all(batch_size: int = 500) -> list[ColumnRotation]:
    """Rotate every encrypted column; see the module docstring."""
    return [rotate_column(column, batch_size) for column in encrypted_columns()]


def rotate_column(column: Column[Any], batch_size: int) -> ColumnRotation:
    table = column.table
    primary_key = list(table.primary_key.columns)
    if len(primary_key) != 1:
        raise RuntimeError(f"{table.name} needs a single-column primary key to be rotated")
    [key] = primary_key
    result = ColumnRotation(table.name, column.name)
    last_seen = None
    while True:
        query = select(key, column).where(column.is_not(None)).order_by(key).limit(batch_size)
        if last_seen is not None:
            query = query.where(key > last_seen)
        rows = db.session.execute(query).all()
        if not rows:
            return result
        for ident, token in rows:
            _rotate_row(result, column, key, ident, token)
        db.session.commit()
        last_seen = rows[-1][0]
        logger.info("rotated %s.%s up to id %s", table.name, column.name, last_seen)


def _rotate_row(
    result: ColumnRotation, column: Column[Any], key: Column[Any], ident: Any, token: str
) -> None:
    if crypto.is_current(token):
        result.already_current += 1
        return
    try:
        rotated = crypto.rotate(token)
    except InvalidToken:
        result.unreadable.append(ident)
        return
    # Conditional: a secret the app replaced meanwhile is newer (and under the newest key).
    changed = db.session.execute(
        update(column.table).where(key == ident, column == token).values({column.name: rotated})
    )
    if getattr(changed, "rowcount", 0) == 1:
        result.rotated += 1
    else:
        result.already_current += 1
