"""Key rotation of the field encryption (R-10.3-crypto): add a key, make it current, re-encrypt
every sensitive column in batches, then (optionally) retire the old keys."""

import base64

from django.apps import apps
from django.db import connection, transaction

from zhili.core import crypto
from zhili.core.masking import sensitive_fields


def sensitive_columns():
    """(model, [fields]) of every concrete, managed model with sensitive fields."""
    for model in apps.get_models():
        meta = model._meta
        if meta.abstract or meta.proxy or not meta.managed:
            continue
        fields = sensitive_fields(model)
        if fields:
            yield model, fields


def add_key() -> str:
    """Add a new key to the key file and make it current; return its id."""
    if crypto.os.environ.get("ZHILI_FIELD_KEYS") or crypto.os.environ.get("ZHILI_FIELD_KEY"):
        raise RuntimeError("keys come from the environment: rotate them there (ZHILI_FIELD_KEYS)")
    path = crypto.key_file()
    ring = crypto.keyring()
    data = {"current": ring.current, "keys": {k: base64.b64encode(v).decode() for k, v in ring.keys.items()}}
    number = 1 + max(int(k[1:]) for k in data["keys"] if k[1:].isdigit()) if data["keys"] else 1
    kid = f"k{number}"
    data["keys"][kid] = crypto.new_key()
    data["current"] = kid
    crypto.write_key_file(path, data)
    crypto.reset_keyring()
    return kid


def reencrypt(batch_size: int = 1000, write=print) -> int:
    """Re-encrypt every value not under the current key (plaintext included); return the count."""
    ring = crypto.keyring()
    current = f"{crypto.CIPHER_CODES[ring.cipher]}{ring.current}"
    total = 0
    for model, fields in sensitive_columns():
        table = model._meta.db_table
        pk = model._meta.pk.column
        qn = connection.ops.quote_name
        for field in fields:
            column = field.column
            last = None
            while True:
                with connection.cursor() as cursor:
                    where = f"WHERE {qn(column)} IS NOT NULL AND {qn(column)} <> ''"
                    params = []
                    if last is not None:
                        where += f" AND {qn(pk)} > %s"
                        params.append(last)
                    cursor.execute(
                        f"SELECT {qn(pk)}, {qn(column)} FROM {qn(table)} {where} ORDER BY {qn(pk)} LIMIT %s",
                        [*params, batch_size],
                    )
                    rows = cursor.fetchall()
                if not rows:
                    break
                last = rows[-1][0]
                changes = []
                for row_pk, value in rows:
                    if crypto.key_id(value) == current:
                        continue
                    plain = crypto.decrypt(value)
                    if plain == crypto.UNREADABLE:
                        raise RuntimeError(
                            f"{table}.{column} row {row_pk} cannot be decrypted; rotation stopped"
                        )
                    changes.append((crypto.encrypt(plain), row_pk))
                if changes:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.executemany(
                            f"UPDATE {qn(table)} SET {qn(column)} = %s WHERE {qn(pk)} = %s", changes
                        )
                    total += len(changes)
            write(f"  {model._meta.label}.{field.name}: done")
    return total


def retire_old_keys() -> list[str]:
    """Drop keys no value uses any more (run after ``reencrypt``)."""
    path = crypto.key_file()
    ring = crypto.keyring()
    data = {
        "current": ring.current,
        "keys": {ring.current: base64.b64encode(ring.keys[ring.current]).decode()},
    }
    retired = [k for k in ring.keys if k != ring.current]
    crypto.write_key_file(path, data)
    crypto.reset_keyring()
    return retired
