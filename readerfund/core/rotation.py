"""Re-encrypting every EncryptedTextField value under the current key (`readerfund rotate-key`).

Resumable by construction: a value already under the current key id is skipped, and each batch
commits on its own, so a run that was killed is finished by running it again. Rows are read and
written with SQL of our own: through the ORM a value would be decrypted on the way in and a
compare-and-set on ciphertext would be encrypted again on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import connection, models, transaction

from readerfund.core.privacy import EncryptedTextField, UndecryptableValue, decrypt, encrypt, is_current

BATCH_SIZE = 200

# Called after each batch with (model label, rows done, rows in the table).
Progress = Callable[[str, int, int], None]


@dataclass
class ModelRotation:
    label: str
    rows: int = 0
    rotated: int = 0  # values re-encrypted by this run
    current: int = 0  # values already under the current key (an earlier, interrupted run)
    # Rows with a value no configured key opens, by primary key: the row's other values still move.
    undecryptable: list[Any] = field(default_factory=list)


@dataclass
class RotationReport:
    key_id: str
    models: list[ModelRotation] = field(default_factory=list)

    @property
    def undecryptable(self) -> int:
        return sum(len(m.undecryptable) for m in self.models)


def encrypted_fields() -> list[tuple[type[models.Model], list[EncryptedTextField]]]:
    """Every concrete model with encrypted fields, found by the fields' class, never by a list of names."""
    found = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
        if fields:
            found.append((model, fields))
    return found


def _reencrypt(token: str | None) -> str | None:
    """The value under the current key, or None when it is empty or already there."""
    if not token or is_current(token):
        return None
    return encrypt(decrypt(token))


def _batch_rotate(
    model: type[models.Model], fields: list[EncryptedTextField], after: Any, size: int, tally: ModelRotation
) -> tuple[Any, int]:
    q = connection.ops.quote_name
    table, pk = q(model._meta.db_table), q(model._meta.pk.column)  # type: ignore[union-attr]
    columns = [f.column for f in fields]
    select = f"SELECT {pk}, {', '.join(q(c) for c in columns)} FROM {table}"  # noqa: S608 - our own names
    with connection.cursor() as cursor:
        if after is None:
            cursor.execute(f"{select} ORDER BY {pk} LIMIT %s", [size])
        else:
            cursor.execute(f"{select} WHERE {pk} > %s ORDER BY {pk} LIMIT %s", [after, size])
        rows = cursor.fetchall()
    # Decide outside the transaction (pure crypto); write in one short one.
    updates: list[tuple[Any, dict[str, tuple[str, str]]]] = []
    for row in rows:
        changes: dict[str, tuple[str, str]] = {}
        for column, token in zip(columns, row[1:], strict=True):
            try:
                fresh = _reencrypt(token)
            except (UndecryptableValue, ValueError):
                if row[0] not in tally.undecryptable:
                    tally.undecryptable.append(row[0])
                continue
            if fresh is None:
                tally.current += bool(token)
            else:
                changes[column] = (token, fresh)
        if changes:
            updates.append((row[0], changes))
    with transaction.atomic(), connection.cursor() as cursor:
        for row_pk, changes in updates:
            sets = ", ".join(f"{q(c)} = %s" for c in changes)
            checks = " AND ".join(f"{q(c)} = %s" for c in changes)
            # Compare-and-set: a row the application rewrote meanwhile is already under the current key.
            cursor.execute(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s AND {checks}",  # noqa: S608 - our own names
                [*(new for _, new in changes.values()), row_pk, *(old for old, _ in changes.values())],
            )
            if cursor.rowcount:
                tally.rotated += len(changes)
    return (rows[-1][0] if rows else after), len(rows)


def encrypted_values_rotate(*, batch_size: int = BATCH_SIZE, progress: Progress | None = None) -> RotationReport:
    """Move every encrypted value of every model to the current key, a batch per transaction."""
    from readerfund.core.privacy import keyring

    report = RotationReport(key_id=keyring().current_id)
    for model, fields in encrypted_fields():
        tally = ModelRotation(label=model._meta.label_lower)
        report.models.append(tally)
        total = model._base_manager.count()
        after: Any = None
        while True:
            after, read = _batch_rotate(model, fields, after, batch_size, tally)
            tally.rows += read
            if progress is not None:
                progress(tally.label, tally.rows, max(total, tally.rows))
            if read < batch_size:
                break
    return report
