"""Encryption at rest of sensitive fields: SM4 (SIV construction with HMAC-SM3) or AES-SIV, keys
outside the database, transparent equality lookups, rotation, and raw-storage checks of a real
SQLite file and a PostgreSQL dump of the demo town (R-10.3-crypto, R-10.3-integrity)."""

import json
import os
import shutil
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.db import IntegrityError, connection, transaction

from zhili.core import crypto
from zhili.people.models import Resident
from zhili.people.tests.factories import make_resident
from zhili.places.tests.factories import make_id_number
from zhili.system import keys

pytestmark = [pytest.mark.req("R-10.3-crypto")]
ROOT = Path(__file__).resolve().parents[3]


def raw(model, pk, column):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {model._meta.db_table} WHERE id = %s", [pk])
        return cursor.fetchone()[0]


@pytest.fixture
def key_file(tmp_path, settings):
    settings.ZHILI = {**settings.ZHILI, "FIELD_KEY_FILE": str(tmp_path / "field-keys.json")}
    crypto.reset_keyring()
    yield tmp_path / "field-keys.json"
    crypto.reset_keyring()


@pytest.mark.django_db
def test_values_are_stored_encrypted_and_read_in_clear(key_file):
    resident = make_resident(phone="13812345678", address="清溪镇桃源村1组3号")
    stored = raw(Resident, resident.pk, "id_number")
    assert stored.startswith("$s") and resident.id_number not in stored
    assert "13812345678" not in raw(Resident, resident.pk, "phone")
    assert "桃源" not in raw(Resident, resident.pk, "address")
    again = Resident.objects.get(pk=resident.pk)
    assert (again.phone, again.address) == ("13812345678", "清溪镇桃源村1组3号")
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.django_db
def test_equality_lookups_keep_working(key_file):
    resident = make_resident(phone="13812345678")
    number = resident.id_number
    assert Resident.objects.get(id_number=number) == resident
    assert Resident.objects.filter(id_number__iexact=number.lower()).get() == resident
    assert Resident.objects.filter(phone__in=["13812345678", "1"]).get() == resident
    assert Resident.objects.filter(phone__icontains="13812345678").get() == resident
    assert not Resident.objects.filter(phone="13812345679").exists()
    assert Resident.objects.filter(phone="").count() == 0
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.create(name="重复", id_number=number)


@pytest.mark.django_db
def test_tampered_ciphertext_is_detected(key_file):
    resident = make_resident(phone="13812345678")
    stored = raw(Resident, resident.pk, "phone")
    flipped = stored[:-2] + ("A" if stored[-2] != "A" else "B") + stored[-1]
    with connection.cursor() as cursor:
        cursor.execute("UPDATE people_resident SET phone = %s WHERE id = %s", [flipped, resident.pk])
    crypto.reset_keyring()
    assert Resident.objects.get(pk=resident.pk).phone == crypto.UNREADABLE


@pytest.mark.django_db
def test_aes_siv_can_be_chosen_and_both_ciphers_are_read(key_file, settings):
    sm4 = make_resident(phone="13800000001")
    settings.ZHILI = {**settings.ZHILI, "FIELD_CIPHER": "aes-siv"}
    crypto.reset_keyring()
    aes = make_resident(phone="13800000002")
    assert raw(Resident, aes.pk, "phone").startswith("$a")
    assert Resident.objects.get(phone="13800000001") == sm4
    assert Resident.objects.get(phone="13800000002") == aes


@pytest.mark.parametrize("cipher", ["sm4", "aes-siv"])
def test_bulk_encryption_stores_what_single_encryption_stores(key_file, settings, cipher):
    """Imports encrypt through ``bulk_encryptor``; lookups compare with ``encrypt``'s tokens."""
    settings.ZHILI = {**settings.ZHILI, "FIELD_CIPHER": cipher}
    crypto.reset_keyring()
    bulk = crypto.bulk_encryptor()
    values = ["13812345678", "清溪镇桃源村1组3号", make_id_number(seq=5), "13812345678", "x" * 40]
    tokens = [bulk(value) for value in values]
    assert tokens == [crypto.encrypt(value) for value in values]
    assert tokens[0].startswith("$s" if cipher == "sm4" else "$a")
    assert [crypto.decrypt(token) for token in tokens] == values
    assert bulk("") == ""
    # In batches (SM4: one key stream for the lot), with empty, repeated, multi-block and
    # block-sized values, and across the memo's limit: the same tokens as one at a time.
    batch = [
        "",
        "a",
        "x" * 16,
        "y" * 17,
        "清溪镇桃源村1组3号" * 5,
        *values,
        *(f"1380000{i:04d}" for i in range(300)),
    ]
    fresh = crypto.bulk_encryptor()
    fresh.MEMO_SIZE = 100
    assert fresh.many(batch) == [crypto.encrypt(value) for value in batch]
    assert fresh.many(batch[:50]) == [crypto.encrypt(value) for value in batch[:50]]
    assert fresh.many([]) == [] and fresh.many(["", ""]) == ["", ""]
    # A bulk column with values that are not plain text (None, a stored token) among plain ones.
    from django.db import connection

    from zhili.people.models import Resident

    field = Resident._meta.get_field("phone")
    column = ["13812345678", None, crypto.encrypt("13900000000"), "", "清溪镇"]
    prepare = field.bulk_column_preparer(connection)
    assert prepare(column) == [field.get_db_prep_save(value, connection) for value in column]


@pytest.mark.django_db
def test_key_rotation_reencrypts_in_batches(key_file):
    residents = [make_resident(phone=f"1390000{i:04d}") for i in range(5)]
    old = crypto.keyring().current
    new = keys.add_key()
    assert new != old
    # during the rotation old and new values are both found
    assert Resident.objects.get(phone="13900000001") == residents[1]
    count = keys.reencrypt(batch_size=2, write=lambda _m: None)
    assert count >= 10  # id numbers and phones of five residents
    assert all(raw(Resident, r.pk, "phone").startswith(f"$s{new}$") for r in residents)
    assert keys.retire_old_keys() == [old]
    assert json.loads(key_file.read_text())["keys"].keys() == {new}
    assert Resident.objects.get(phone="13900000003").id_number == residents[3].id_number
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


PLAINTEXTS = """
import json, os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "zhili.settings"
django.setup()
from zhili.people.models import Resident, Household
values = set()
for r in Resident.objects.all():
    values.update(v for v in (r.id_number, r.phone) if v)
for h in Household.objects.all():
    if h.phone:
        values.add(h.phone)
print(json.dumps(sorted(values)))
"""


def leaked_values(values, blob: bytes) -> list[str]:
    """The plaintext values found in ``blob`` (every window of every run of digits/X checked)."""
    import re

    windows = set()
    lengths = {len(v) for v in values}
    for run in re.findall(rb"[0-9Xx]{11,}", blob):
        for size in lengths:
            for start in range(0, len(run) - size + 1):
                windows.add(run[start : start + size])
    return [v for v in values if v.encode() in windows]


def build_demo(env) -> list[str]:
    run = lambda *args: subprocess.run(  # noqa: E731
        [sys.executable, *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True, timeout=900
    )
    run("-m", "zhili.cli", "migrate")
    run("-m", "zhili.cli", "demo")
    values = json.loads(run("-c", PLAINTEXTS).stdout)
    assert len(values) > 1000
    assert all(len(v) in (11, 18) for v in values)
    return values


def demo_env(data_dir, **extra):
    env = {**os.environ, "ZHILI_DATA": str(data_dir), "PYTHONPATH": str(ROOT), **extra}
    env.pop("DATABASE_URL", None)
    env.update(extra)
    return env


def test_no_plaintext_id_number_or_phone_in_the_sqlite_file(tmp_path):
    values = build_demo(demo_env(tmp_path))
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("zhili.sqlite3*"))
    assert b"SQLite format 3" in blob
    leaked = leaked_values(values, blob)
    assert leaked == [], f"{len(leaked)} plaintext values in the database file, e.g. {leaked[:3]}"


@pytest.mark.postgres
def test_no_plaintext_id_number_or_phone_in_a_postgresql_dump(tmp_path):
    if not shutil.which("pg_dump") or not shutil.which("psql"):
        pytest.skip("pg_dump/psql are not installed")
    name = f"zhili_rawdump_{uuid.uuid4().hex[:8]}"
    admin = ["-h", "127.0.0.1", "-U", "postgres"]
    try:
        subprocess.run(["psql", *admin, "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"PostgreSQL at 127.0.0.1:5432 is not reachable: {exc}")
    try:
        env = demo_env(tmp_path, DATABASE_URL=f"postgresql://postgres@127.0.0.1:5432/{name}")
        values = build_demo(env)
        dump = subprocess.run(["pg_dump", *admin, name], check=True, capture_output=True, timeout=600).stdout
        assert b"people_resident" in dump
        leaked = leaked_values(values, dump)
        assert leaked == [], f"{len(leaked)} plaintext values in pg_dump, e.g. {leaked[:3]}"
    finally:
        subprocess.run(
            ["psql", *admin, "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], capture_output=True
        )


def test_make_id_number_is_not_stored_anywhere_in_clear_by_a_lookup():
    # lookups send the encrypted forms only: the SQL parameters never hold the plaintext
    number = make_id_number(birth="19800101", seq=5)
    forms = crypto.encrypt_all_keys(number)
    assert number not in forms and all(f.startswith("$") for f in forms)
