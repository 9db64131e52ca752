"""The audit stream: hash chain, tamper detection, append-only triggers, checkpoints, retention,
alert rule and the audit browser (R-10.3-audit, R-10.3-integrity)."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from zhili.audit import chain, store
from zhili.audit.models import AuditEvent
from zhili.core import audit
from zhili.people.tests.factories import make_resident
from zhili.system.models import Role

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-10.3-audit"), pytest.mark.req("R-10.3-integrity")]


@pytest.fixture(autouse=True)
def checkpoint_file(tmp_path, settings):
    settings.ZHILI = {
        **settings.ZHILI,
        "AUDIT_CHECKPOINT_FILE": str(tmp_path / "checkpoints.jsonl"),
        "AUDIT_ARCHIVE_DIR": str(tmp_path / "archive"),
    }
    return tmp_path / "checkpoints.jsonl"


def emit_some(n=5):
    for i in range(n):
        audit.emit("test.event", details={"i": i, "text": "测试"})
    return list(AuditEvent.objects.order_by("id").values_list("id", flat=True))


def tamper(sql, params=()):
    """Change the table as a DBA with direct access would: without the append-only triggers."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(sql, params)
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
        else:
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_event_no_delete")
            cursor.execute(sql, params)


def verify_fails_at(event_id):
    result = store.verify()
    assert not result.ok
    assert result.first_bad_id == event_id, result.problem
    with pytest.raises(CommandError, match=f"#{event_id}"):
        call_command("audit", "verify")
    return result


def test_every_event_has_the_required_fields(client, django_user_model):
    user = django_user_model.objects.create_user("who", password="x")
    resident = make_resident()
    audit.emit("data.read", user=user, obj=resident, details={"why": "test"})
    event = AuditEvent.objects.latest("id")
    assert event.username == "who" and event.object_type == "people.resident"
    assert event.object_id == str(resident.pk) and event.success
    assert json.loads(event.details) == {"why": "test"}
    assert len(event.hash) == 64 and event.prev_hash == AuditEvent.objects.get(pk=event.pk - 1).hash
    client.get("/", HTTP_USER_AGENT="pytest-agent")
    login_event = AuditEvent.objects.filter(user_agent="pytest-agent").first()
    assert login_event is None or login_event.request_id  # requests carry their id
    call_command("audit", "verify")


def test_requests_record_ip_user_agent_and_request_id(client, django_user_model):
    user = django_user_model.objects.create_user("reader", password="x")
    client.force_login(user)
    response = client.get("/people/resident/", HTTP_USER_AGENT="pytest-agent", REMOTE_ADDR="10.1.2.3")
    assert response.status_code == 403
    event = AuditEvent.objects.filter(event_type="access.denied").latest("id")
    assert (event.username, event.ip, event.user_agent) == ("reader", "10.1.2.3", "pytest-agent")
    assert event.request_id == response["X-Request-ID"]
    assert not event.success


def test_data_changes_carry_masked_before_and_after(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x")
    resident = make_resident(phone="13812345678")
    client.force_login(admin)
    response = client.patch(
        f"/api/people/residents/{resident.pk}/", {"phone": "13987654321"}, content_type="application/json"
    )
    assert response.status_code == 200
    event = AuditEvent.objects.filter(event_type="data.update").latest("id")
    details = json.loads(event.details)
    assert details["changed"]["phone"] == ["138****5678", "139****4321"]
    assert "13987654321" not in event.details


def test_update_and_delete_are_refused_by_the_database():
    emit_some(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=1).update(event_type="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.all().delete()
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("TRUNCATE audit_auditevent")
    assert AuditEvent.objects.count() >= 2


def test_edited_row_is_named():
    ids = emit_some(5)
    tamper("UPDATE audit_auditevent SET details = %s WHERE id = %s", ['{"i":99}', ids[2]])
    verify_fails_at(ids[2])


def test_deleted_row_is_named():
    ids = emit_some(5)
    tamper("DELETE FROM audit_auditevent WHERE id = %s", [ids[1]])
    result = verify_fails_at(ids[1])
    assert "missing" in result.problem


def test_reordered_rows_are_named():
    ids = emit_some(5)
    a, b = ids[1], ids[3]
    tamper("UPDATE audit_auditevent SET id = CASE WHEN id = %s THEN -1 ELSE id END WHERE id = %s", [a, a])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = %s", [a, b])
    tamper("UPDATE audit_auditevent SET id = %s WHERE id = -1", [b])
    verify_fails_at(a)


def test_recomputed_hashes_are_caught_by_the_checkpoint(checkpoint_file):
    ids = emit_some(4)
    store.write_checkpoint()
    # a forger who edits a row and recomputes every later hash still differs from the checkpoint
    tamper("UPDATE audit_auditevent SET event_type = 'test.forged' WHERE id = %s", [ids[1]])
    prev = AuditEvent.objects.get(pk=ids[0]).hash
    for event in AuditEvent.objects.filter(pk__gte=ids[1]).order_by("id"):
        digest = chain.link(
            prev,
            chain.canonical(
                event.pk,
                chain.micros(event.time),
                event.event_type,
                event.username,
                event.ip,
                event.user_agent,
                event.request_id,
                event.object_type,
                event.object_id,
                event.success,
                event.details,
            ),
        )
        tamper(
            "UPDATE audit_auditevent SET prev_hash = %s, hash = %s WHERE id = %s", [prev, digest, event.pk]
        )
        prev = digest
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET last_hash = %s", [prev])
    verify_fails_at(ids[-1])


def test_truncated_tail_is_detected(checkpoint_file):
    ids = emit_some(6)
    store.write_checkpoint()
    assert json.loads(checkpoint_file.read_text().splitlines()[-1])["id"] == ids[-1]
    tamper("DELETE FROM audit_auditevent WHERE id >= %s", [ids[-2]])
    # even if the chain head in the database is rewound too, the checkpoint file knows better
    with connection.cursor() as cursor:
        cursor.execute("UPDATE audit_chainhead SET last_id = %s", [ids[-3]])
    result = store.verify()
    assert not result.ok and "truncated" in result.problem
    assert result.first_bad_id == ids[-2]


def test_prune_archives_then_deletes_and_the_chain_still_verifies(tmp_path):
    if connection.vendor == "postgresql":
        pytest.skip(
            "needs events older than 180 days by the database clock: PostgreSQL's retention-floor "
            "trigger refuses to delete younger ones (test_prune_cannot_cut_into_the_retention_period)"
        )
    before = len(emit_some(3))
    # retention never goes below 180 days: nothing recent is pruned even when asked for 1 day
    assert store.prune(days=1)["archived"] == 0
    outcome = store.prune(now=timezone.now() + timedelta(days=400))
    assert outcome["archived"] == before
    archives = list((tmp_path / "archive").glob("*.csv.gz"))
    assert len(archives) == 1
    import gzip

    with gzip.open(archives[0], "rt", encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    assert len(lines) == before + 1 and lines[0].startswith("id,time,event_type")
    assert list(AuditEvent.objects.values_list("event_type", flat=True)) == ["audit.prune"]
    audit.emit("after.prune")
    call_command("audit", "verify")


def test_prune_cannot_cut_into_the_retention_period():
    """Even with a wrong clock in the application, PostgreSQL keeps the last 180 days."""
    if connection.vendor != "postgresql":
        pytest.skip("the retention floor is a PostgreSQL trigger (a SQLite file is the application's own)")
    count = len(emit_some(3))
    with pytest.raises(DatabaseError):
        store.prune(now=timezone.now() + timedelta(days=400))
    assert AuditEvent.objects.count() == count
    call_command("audit", "verify")


def test_on_postgresql_not_even_the_maintenance_permit_removes_recent_events():
    """The application's own role can set the permit; inside the retention period it is useless."""
    if connection.vendor != "postgresql":
        pytest.skip("the retention floor is a PostgreSQL trigger (a SQLite file is the application's own)")
    last = emit_some(2)[-1]
    for change in (lambda q: q.delete(), lambda q: q.update(event_type="forged")):
        with pytest.raises(DatabaseError), transaction.atomic(), store.maintenance_permit():
            change(AuditEvent.objects.filter(id=last))
    assert AuditEvent.objects.filter(id=last).exclude(event_type="forged").exists()
    with (
        pytest.raises(DatabaseError),
        transaction.atomic(),
        store.maintenance_permit(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM audit_auditevent")


def test_failed_sign_ins_raise_a_security_notice(settings, django_user_model):
    from zhili.core import notices

    received = []
    notices.add_sink(received.append)
    try:
        admin = django_user_model.objects.create_user("secadm", password="x")
        Role.objects.get(code="security_admin").users.add(admin)
        settings.ZHILI = {**settings.ZHILI, "AUDIT_ALERT_FAILURES": 3, "AUDIT_ALERT_MINUTES": 5}
        for _ in range(3):
            audit.emit("auth.login_failed", success=False, details={"username": "victim"})
        alerts = [n for n in received if n["category"] == "security.login_failures"]
        assert len(alerts) == 1 and "victim" in alerts[0]["title"]
        assert admin in alerts[0]["recipients"]
        assert AuditEvent.objects.filter(event_type="security.alert").exists()
        audit.emit("auth.login_failed", success=False, details={"username": "victim"})
        assert len([n for n in received if n["category"] == "security.login_failures"]) == 1
    finally:
        notices._sinks.remove(received.append)


def test_audit_browser_is_for_the_audit_administrator_only(client, django_user_model):
    Role.objects.filter(code__in=["audit_admin", "system_admin"]).update(require_2fa=False)
    auditor = django_user_model.objects.create_user("auditor", password="x")
    Role.objects.get(code="audit_admin").users.add(auditor)
    sysadmin = django_user_model.objects.create_user("sysadmin", password="x")
    Role.objects.get(code="system_admin").users.add(sysadmin)
    root = django_user_model.objects.create_superuser("root", password="x")
    audit.emit("auth.login", user=root)
    for user in (sysadmin, root):
        client.force_login(user)
        assert client.get("/audit/").status_code == 403
        assert client.get("/audit/export/").status_code == 403
    client.force_login(auditor)
    page = client.get("/audit/login-log/?type=auth.&user=root")
    assert page.status_code == 200 and "auth.login" in page.content.decode()
    assert client.get("/audit/operation-log/").status_code == 200
    export = b"".join(client.get("/audit/export/?type=auth.").streaming_content).decode("utf-8-sig")
    assert export.splitlines()[0].startswith("id,time,event_type") and ",auth.login," in export
    assert client.get("/audit/verify/").status_code == 200
    assert AuditEvent.objects.filter(event_type="audit.export", username="auditor").exists()
    # nobody can edit or delete: there is no such route, and the API has no audit endpoint
    assert client.post("/audit/", {"id": 1}).status_code == 405
    assert client.get("/api/audit/").status_code == 404


@override_settings()
def test_sm3_is_the_default_and_sha256_can_be_chosen(settings):
    emit_some(2)
    assert chain.hash_name() == "sm3"
    assert store.verify().ok
