"""The SLA sweep: warn before a step is due, escalate when it is overdue (R-6-cases).

Set-based: two UPDATEs and two INSERT … SELECT for the timeline, and one notice per department
and handler with the number of cases, never a Python loop over cases. It runs every minute in
the server's scheduler (``zhili.core.jobs``); tests pass ``now`` or freeze ``cases.clock``.
"""

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, F, Q
from django.urls import reverse
from django.utils.translation import gettext as _

from zhili.cases import clock
from zhili.cases.models import Case, CaseEvent, EventKind, SlaState
from zhili.core import audit
from zhili.core.jobs import register_job
from zhili.core.notices import notify


def _timeline_rows(queryset, kind: str, now) -> None:
    """Add one ``kind`` event to each case of ``queryset`` with a single INSERT … SELECT."""
    select_sql, params = queryset.order_by().values("id", "status").query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(CaseEvent._meta.db_table)
    columns = ", ".join(
        quote(c) for c in ("case_id", "kind", "from_status", "to_status", "at", "note", "data")
    )
    at = connection.ops.adapt_datetimefield_value(now)
    sql = (
        f"INSERT INTO {table} ({columns}) "  # noqa: S608 (quoted identifiers, parameters)
        f"SELECT sub.id, %s, sub.status, sub.status, %s, '', '{{}}' FROM ({select_sql}) sub"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [kind, at, *params])


def supervisors(department_ids) -> dict:
    """Return ``{department_id: [users]}`` who receive escalations (supervise permission)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(
            Q(user_permissions__codename="supervise_case", user_permissions__content_type__app_label="cases")
            | Q(
                groups__permissions__codename="supervise_case",
                groups__permissions__content_type__app_label="cases",
            )
        )
        .distinct()
    )
    result = {pk: [] for pk in department_ids}
    town_level = []
    for user in users:
        if user.department_id in result:
            result[user.department_id].append(user)
        elif user.department_id is None:
            town_level.append(user)
    for pk in result:
        result[pk] += town_level
    return result


def sweep(now=None) -> dict:
    """Mark cases due soon and overdue, record it on their timelines and tell the people concerned."""
    now = now or clock.now()
    # Only open cases carry an SLA state ("ok"/"warning"/"overdue"; final states have ""), so the
    # (sla_state, warn_at) and (sla_state, due_at) indexes find exactly the cases that crossed a
    # line since the last sweep: a steady-state minute touches a handful of index entries.
    # Escalations first: a case past its due time is escalated, not warned; what is still "ok"
    # with its warning time passed is then warned (one index range each, no due_at > now test).
    overdue = Case.objects.filter(sla_state__in=(SlaState.OK, SlaState.WARNING), due_at__lte=now)
    warn = Case.objects.filter(sla_state=SlaState.OK, warn_at__lte=now)
    with transaction.atomic():
        over_groups = list(overdue.values("department_id", "assignee_id").annotate(n=Count("id")).order_by())
        escalated = 0
        if over_groups:
            _timeline_rows(overdue, EventKind.ESCALATE, now)
            escalated = overdue.update(sla_state=SlaState.OVERDUE, escalation_level=F("escalation_level") + 1)
        warn_groups = list(warn.values("department_id", "assignee_id").annotate(n=Count("id")).order_by())
        warned = 0
        if warn_groups:
            _timeline_rows(warn, EventKind.WARNING, now)
            warned = warn.update(sla_state=SlaState.WARNING)
    _notify(warn_groups, over_groups)
    result = {"warned": warned, "escalated": escalated}
    if warned or escalated:
        audit.emit("cases.sla_sweep", details=result)
    return result


def _notify(warn_groups, over_groups) -> None:
    user_model = get_user_model()
    queue = reverse("cases:queue")
    per_assignee = {}
    for group in warn_groups:
        if group["assignee_id"]:
            per_assignee[group["assignee_id"]] = per_assignee.get(group["assignee_id"], 0) + group["n"]
    for user in user_model.objects.filter(pk__in=per_assignee):
        notify(
            user,
            _("%(n)d case(s) due soon") % {"n": per_assignee[user.pk]},
            url=queue + "?queue=mine",
            level="warning",
            category="cases.sla",
        )
    per_department = {}
    for group in over_groups:
        per_department[group["department_id"]] = per_department.get(group["department_id"], 0) + group["n"]
    if not per_department:
        return
    recipients = supervisors(per_department)
    for department_id, count in per_department.items():
        users = recipients.get(department_id) or []
        if users:
            notify(
                users,
                _("%(n)d case(s) overdue, escalated to you") % {"n": count},
                url=queue + "?queue=overdue",
                level="danger",
                category="cases.escalation",
            )
    overdue_assignees = {}
    for group in over_groups:
        if group["assignee_id"]:
            overdue_assignees[group["assignee_id"]] = (
                overdue_assignees.get(group["assignee_id"], 0) + group["n"]
            )
    for user in user_model.objects.filter(pk__in=overdue_assignees):
        notify(
            user,
            _("%(n)d of your case(s) are overdue") % {"n": overdue_assignees[user.pk]},
            url=queue + "?queue=overdue",
            level="danger",
            category="cases.sla",
        )


register_job("cases_sla_sweep", 60, sweep)
