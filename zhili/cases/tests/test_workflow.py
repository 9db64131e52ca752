"""The closed loop end to end: intake, accept, dispatch, handle, return, extension, feedback,
review, close, reopen, merge, rating; SLA warnings and escalation with a controllable clock."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from zhili.cases import clock, services, sla
from zhili.cases.models import (
    Case,
    CaseCategory,
    CaseEvent,
    EventKind,
    FollowUpVisit,
    RoutingRule,
    SlaState,
    Status,
)
from zhili.cases.tests.factories import make_case, make_user, point
from zhili.core import audit
from zhili.notices.models import Notice
from zhili.orgs.tests.factories import make_department
from zhili.places.tests.factories import make_grid

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-6-cases"), pytest.mark.req("R-7.1-events")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Monday 2026-11-23 09:00 in Shanghai
MONDAY = dt.datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)


@pytest.fixture
def events():
    seen = []
    audit.add_sink(seen.append)
    yield seen
    audit._sinks.remove(seen.append)


@pytest.fixture
def setup():
    department = make_department()
    other = make_department()
    dispatcher = make_user("dispatcher")
    handler = make_user("handler", department=department)
    supervisor = make_user("supervisor", department=department, actions=("view", "supervise"))
    road = CaseCategory.objects.get(code="city.road")
    road.default_department = department
    road.save()
    return {
        "department": department,
        "other": other,
        "dispatcher": dispatcher,
        "handler": handler,
        "supervisor": supervisor,
    }


def kinds(case):
    return list(case.events.order_by("at", "pk").values_list("kind", flat=True))


def test_full_lifecycle_with_return_extension_reopen_and_rating(setup, events):
    d, h = setup["dispatcher"], setup["handler"]
    with clock.frozen(MONDAY):
        case = make_case(channel="resident", reporter_name="张三", reporter_phone="13800000000")
        assert case.status == Status.REGISTERED
        assert case.follow_token and services.case_for_token(case.follow_token) == case
        assert case.follow_digest != case.follow_token  # only the digest is stored
        assert case.due_at == MONDAY + dt.timedelta(hours=2)  # accept within 2 office hours
        case = services.transition(case, "accept", d, note="属实")
        assert case.status == Status.ACCEPTED and case.accept_on_time
        case = services.transition(case, "dispatch", d, department=setup["other"])
        assert case.department == setup["other"]
    with clock.frozen(MONDAY + dt.timedelta(hours=1)):
        # the wrong department returns it; the dispatcher dispatches again by the rules
        other_handler = make_user("other_handler", department=setup["other"])
        case = services.transition(case, "return", other_handler, note="不属于本部门")
        assert case.status == Status.ACCEPTED and case.department is None
        case = services.transition(case, "dispatch", d)  # routing: category default department
        assert case.department == setup["department"]
        case = services.transition(case, "start", h, lon=119.93, lat=30.23)
        assert case.status == Status.HANDLING
        due = case.due_at
        assert due == dt.datetime(2026, 11, 30, 10, 0, tzinfo=SHANGHAI)  # 5 working days
        case = services.transition(case, "request_extension", h, note="需采购材料", days=2)
        case = services.transition(case, "decide_extension", d, approve="1")
        assert case.due_at == dt.datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI)
        case = services.transition(case, "progress", h, note="已围挡")
        case = services.transition(case, "complete", h, note="已修复路面")
        assert case.status == Status.HANDLED and case.handle_on_time
        case = services.transition(case, "feedback", d, note="您反映的路面已修复")
        case = services.transition(case, "review_fail", d, note="仍有积水")
        assert case.status == Status.HANDLING
        case = services.transition(case, "complete", h, note="已排水")
        case = services.transition(case, "feedback", d, note="已排水修复")
        case = services.transition(case, "review_pass", d)
        assert case.status == Status.CLOSED and case.closed_at is not None and case.due_at is None
    with clock.frozen(MONDAY + dt.timedelta(days=3)):
        case = services.transition(case, "reopen", d, note="又坏了")
        assert case.status == Status.DISPATCHED and case.reopen_count == 1
        for name, note in (("start", ""), ("complete", "重修"), ("feedback", "已重修"), ("review_pass", "")):
            case = services.transition(case, name, h if name in ("start", "complete") else d, note=note)
        services.rate(case, 1, "太慢了")
    case.refresh_from_db()
    assert case.rating == 1 and case.resolved is False
    visit = FollowUpVisit.objects.get(case=case)
    assert visit.owner_unit == setup["department"] and not visit.done
    assert Notice.objects.filter(recipient=h, category="cases.visit").exists()
    assert kinds(case)[:4] == ["register", "accept", "dispatch", "return"]
    assert {"extension_request", "extension_decision", "review_fail", "reopen", "rate"} <= set(kinds(case))
    start = case.events.filter(kind=EventKind.START).order_by("at", "pk").first()
    assert (start.longitude, start.latitude, start.user) == (119.93, 30.23, h)
    assert {"cases.accept", "cases.dispatch", "cases.return", "cases.review_pass", "cases.reopen"} <= {
        e["type"] for e in events
    }


def test_reopen_only_within_window(setup, settings):
    settings.ZHILI = {**settings.ZHILI, "CASES": {"REOPEN_DAYS": 2}}
    d = setup["dispatcher"]
    with clock.frozen(MONDAY):
        case = make_case()
        for name, note in (
            ("accept", ""),
            ("dispatch", ""),
            ("complete", "ok"),
            ("feedback", "ok"),
            ("review_pass", ""),
        ):
            case = services.transition(case, name, d, note=note)
    with clock.frozen(MONDAY + dt.timedelta(days=5)), pytest.raises(ValidationError):
        services.transition(case, "reopen", d, note="again")
    assert Case.objects.get(pk=case.pk).status == Status.CLOSED


def test_reject_needs_reason_and_wrong_state_changes_nothing(setup):
    d = setup["dispatcher"]
    case = make_case()
    with pytest.raises(ValidationError):
        services.transition(case, "reject", d, note="")
    with pytest.raises(ValidationError):
        services.transition(case, "complete", d, note="done")
    assert Case.objects.get(pk=case.pk).status == Status.REGISTERED
    case = services.transition(case, "reject", d, note="不属于政府职责")
    assert case.status == Status.REJECTED and case.reject_reason == "不属于政府职责"


def test_permission_is_checked_per_action(setup):
    viewer = make_user("only_viewer", actions=("view",))
    case = make_case()
    with pytest.raises(PermissionDenied):
        services.transition(case, "accept", viewer)
    assert [t.name for t in services.available_transitions(case, viewer)] == ["comment"]


def test_sla_warning_and_escalation_with_controllable_clock(setup, events):
    d, h, boss = setup["dispatcher"], setup["handler"], setup["supervisor"]
    other_boss = make_user("other_boss", department=setup["other"], actions=("view", "supervise"))
    with clock.frozen(MONDAY):
        case = make_case()
        case = services.transition(case, "accept", d)
        case = services.transition(case, "dispatch", d, assignee=h)
    due = case.due_at  # Monday + 5 working days
    assert sla.sweep(now=MONDAY + dt.timedelta(days=1)) == {"warned": 0, "escalated": 0}
    with clock.frozen(due - dt.timedelta(hours=3)):
        assert sla.sweep() == {"warned": 1, "escalated": 0}
    case.refresh_from_db()
    assert case.sla_state == SlaState.WARNING
    assert Notice.objects.filter(recipient=h, category="cases.sla").exists()
    assert sla.sweep(now=due + dt.timedelta(minutes=1)) == {"warned": 0, "escalated": 1}
    case.refresh_from_db()
    assert case.sla_state == SlaState.OVERDUE and case.escalation_level == 1
    assert Notice.objects.filter(recipient=boss, category="cases.escalation", level="danger").exists()
    assert Notice.objects.filter(recipient=d, category="cases.escalation").exists()  # town level
    assert not Notice.objects.filter(recipient=other_boss, category="cases.escalation").exists()
    assert list(case.events.filter(kind__in=("warning", "escalate")).values_list("kind", flat=True)) == [
        "warning",
        "escalate",
    ]
    # the sweep is idempotent: an escalated case is not escalated again
    assert sla.sweep(now=due + dt.timedelta(hours=2)) == {"warned": 0, "escalated": 0}
    assert any(e["type"] == "cases.sla_sweep" for e in events)
    with clock.frozen(due + dt.timedelta(hours=3)):
        case = services.transition(case, "complete", h, note="终于修好")
    assert case.handle_on_time is False and case.sla_state == SlaState.OK


def test_urgent_cases_get_fifteen_minutes(setup):
    with clock.frozen(MONDAY):
        case = make_case(urgent=True)
    assert case.due_at == MONDAY + dt.timedelta(minutes=15)


def test_merge_gives_every_reporter_the_feedback(setup):
    d = setup["dispatcher"]
    first = make_case(channel="resident", reporter_name="甲")
    second = make_case(channel="resident", reporter_name="乙", location=point(119.9301, 30.2301))
    token = second.follow_token
    assert [c.pk for c in services.similar_open_cases(first.category, 119.9301, 30.2301)] == [
        second.pk,
        first.pk,
    ]
    second = services.transition(second, "merge", d, target=first.number)
    assert second.status == Status.MERGED and second.merged_into == first
    with pytest.raises(ValidationError):
        services.transition(make_case(), "merge", d, target=second.pk)  # not into a closed case
    for name, note in (
        ("accept", ""),
        ("dispatch", ""),
        ("complete", "修好了"),
        ("feedback", "已修复，感谢反映"),
    ):
        first = services.transition(first, name, d, note=note)
    second.refresh_from_db()
    assert second.feedback == "已修复，感谢反映"
    assert CaseEvent.objects.filter(case=second, kind=EventKind.FEEDBACK).exists()
    assert services.case_for_token(token) == second


def test_duplicates_respect_category_radius_and_window(setup):
    base = make_case()
    far = make_case(location=point(119.94, 30.24))  # ~1.4 km
    other_kind = make_case("city.sanitation")
    found = services.similar_open_cases(base.category, 119.93, 30.23)
    assert base in found and far not in found and other_kind not in found
    with clock.frozen(timezone.now() + dt.timedelta(days=30)):
        assert services.similar_open_cases(base.category, 119.93, 30.23) == []


@pytest.mark.req("R-5.3.2-problems")
def test_routing_rules_most_specific_wins(setup):
    dep_a, dep_b, dep_c = make_department(), make_department(), make_department()
    grid = make_grid()
    leader = make_user("leader")
    grid.leader = leader
    grid.save()
    city = CaseCategory.objects.get(code="city")
    road = CaseCategory.objects.get(code="city.road")
    RoutingRule.objects.create(name="市容总则", category=city, department=dep_a)
    RoutingRule.objects.create(name="道路", category=road, department=dep_b, priority=-5)
    RoutingRule.objects.create(
        name="道路·本网格", category=road, grid=grid, department=dep_c, dispatch_to_grid_worker=True
    )
    assert services.route(CaseCategory.objects.get(code="city.greening")).department == dep_a
    assert services.route(road).department == dep_b
    route = services.route(road, grid)
    assert route.department == dep_c and route.assignee == leader
    # intake finds the grid from the position, and trusted channels are dispatched at once
    case = make_case("city.road", channel="patrol", location=point(119.93, 30.23))
    assert case.grid == grid and case.status == Status.DISPATCHED
    assert case.department == dep_c and case.assignee == leader
    assert kinds(case) == ["register", "accept", "dispatch"]


def test_open_case_contract_for_alarms(setup):
    dep = make_department()
    RoutingRule.objects.create(name="环境", category=CaseCategory.objects.get(code="env"), department=dep)
    source = setup["department"]  # any model instance stands for the alarm
    case = services.open_case(
        category="env.air", title="PM2.5 超标", channel="alarm", location=point(), source=source
    )
    assert case.status == Status.DISPATCHED and case.department == dep
    assert (case.source_label, case.source_id) == ("orgs.department", str(source.pk))
    assert case.data_source == "device"
    for code in ("env.air", "env.dust", "env.noise", "site.violation", "pipe.leak", "device.fault"):
        assert CaseCategory.objects.filter(code=code).exists()
    with pytest.raises(ValidationError):
        services.open_case(category="no.such", title="x")
    with pytest.raises(ValidationError):
        services.open_case(category="env.air", title="x", location={"type": "Point", "coordinates": [500, 1]})
    with pytest.raises(ValidationError):
        services.open_case(category="pipe.leak", title="x", anonymous=True)
