"""Demo cases of 清溪镇（演示）: routing rules to the town's offices and a deterministic spread of
cases over the last four months in every state, built through the real state machine (so the
timelines, SLA flags and statistics are consistent). All rows are marked ``data_source=demo``."""

import datetime as dt
import random

from django.db import transaction
from django.utils import timezone

from zhili.demo import names

DEMO = "demo"

#: category code → office code suffix (zhili.demo.catalog.OFFICES)
ROUTES = {
    "city": "CGB",
    "env": "STHJ",
    "safety": "YJGL",
    "site.violation": "GHJS",
    "social": "SHSW",
    "social.dispute": "ZZZX",
}

#: (category, weight, descriptions)
PROBLEMS = [
    (
        "city.road",
        14,
        ["路面出现坑洼，雨天积水严重", "人行道地砖松动翘起", "井盖破损有安全隐患", "路灯不亮已经一周"],
    ),
    ("city.sanitation", 14, ["垃圾桶满溢无人清运", "河边有人乱倒建筑垃圾", "公厕卫生差无人打扫"]),
    ("city.greening", 6, ["行道树倒伏挡住道路", "绿化带杂草丛生"]),
    ("city.illegal_building", 5, ["楼顶私自搭建彩钢棚", "沿街店铺违规外扩"]),
    ("city.vending", 6, ["菜场门口占道摆摊", "夜市摊位堵塞消防通道"]),
    ("env.air", 4, ["附近有人焚烧秸秆，烟很大", "工厂夜间排放刺鼻气味"]),
    ("env.dust", 4, ["工地渣土车未覆盖，扬尘严重"]),
    ("env.water", 3, ["河道发黑发臭", "有排污口向河里排污水"]),
    ("safety.fire", 5, ["电动车在楼道充电", "消防通道被车辆堵塞"]),
    ("pipe.leak", 2, ["路边闻到燃气味", "自来水管爆裂"]),
    ("social.noise", 10, ["广场舞音响太响影响休息", "夜间装修噪声扰民"]),
    ("social.dispute", 5, ["邻居漏水纠纷协商不成", "宅基地界线争议"]),
    ("social.property", 8, ["小区电梯经常故障", "物业不作为，停车混乱"]),
    ("social.advice", 4, ["建议在村口增设公交站", "咨询老年人补贴申领流程"]),
]
CHANNELS = [("resident", 40), ("hotline", 35), ("staff", 10), ("patrol", 10), ("open311", 5)]
FEEDBACK = [
    "已安排人员现场处置完毕，感谢您的反映。",
    "经核实已整改到位。",
    "已协调相关单位处理，后续将持续关注。",
]


def _pick(rng, weighted):
    total = sum(item[1] for item in weighted)
    roll = rng.uniform(0, total)
    for item in weighted:
        roll -= item[1]
        if roll <= 0:
            return item
    return weighted[-1]


def build_demo(town, write):
    from zhili.cases import clock, services
    from zhili.cases.models import Case, CaseCategory, CaseEvent, FollowUpVisit, RoutingRule
    from zhili.core.fields import parse_geometry
    from zhili.demo import catalog
    from zhili.orgs.models import Department
    from zhili.places.models import Grid

    rng = random.Random(town.spec.seed + 505)
    offices = {
        d.code.rsplit("-", 1)[-1]: d
        for d in Department.objects.filter(code__startswith=f"DEMO-{catalog.TOWN_CODE}-")
    }
    staff = {}
    from django.contrib.auth import get_user_model

    for user in get_user_model().objects.filter(department__in=offices.values()).order_by("username"):
        staff.setdefault(user.department_id, user)
    dispatcher = staff.get(offices["ZZZX"].pk) if "ZZZX" in offices else None
    categories = {c.code: c for c in CaseCategory.objects.all()}
    with transaction.atomic():
        for code, suffix in ROUTES.items():
            if code in categories and suffix in offices:
                town.saved(
                    RoutingRule(
                        name=f"{categories[code].name} → {offices[suffix].name}",
                        category=categories[code],
                        department=offices[suffix],
                        data_source=DEMO,
                        owner_unit=town.government,
                    )
                )
    grids = []
    for grid in Grid.objects.filter(division__path__startswith=town.division.path, level__gte=3).order_by(
        "code"
    ):
        shape = parse_geometry(grid.geometry)
        if shape is not None:
            grids.append((grid, shape.representative_point()))
    if not grids:
        write("cases: no grids, skipped")
        return
    count = min(3000, 300 * town.spec.scale)
    # Deterministic content (seeded), laid out over the four months before the day of the build
    # (anchored at its midnight, so two builds on one day are identical), so the queues and the
    # statistics of a fresh demo show current work; the scheduler's sweep then catches up.
    now = timezone.localtime(town.now).replace(hour=0, minute=0, second=0, microsecond=0)
    created = []
    for n in range(count):
        code, _w, texts = _pick(rng, PROBLEMS)
        channel = _pick(rng, CHANNELS)[0]
        age_days = rng.random() ** 1.6 * 120
        reported = now - dt.timedelta(days=age_days, minutes=rng.randint(0, 600))
        reported = reported.replace(hour=rng.randint(7, 20))
        if reported > now:
            reported = now - dt.timedelta(minutes=rng.randint(5, 300))
        grid, point = grids[rng.randrange(len(grids))]
        lon = round(point.x + rng.uniform(-0.0015, 0.0015), 6)
        lat = round(point.y + rng.uniform(-0.0015, 0.0015), 6)
        sex = "F" if rng.random() < 0.5 else "M"
        text = texts[rng.randrange(len(texts))]
        with clock.frozen(reported), transaction.atomic():
            case = services.open_case(
                category=code,
                title=text[:30],
                description=f"{text}（演示数据）",
                channel=channel,
                location={"type": "Point", "coordinates": [lon, lat]},
                address=f"{grid.name}附近",
                grid=grid,
                urgent=code == "pipe.leak",
                reporter_name=names.full_name(rng, sex, rng.randint(1950, 2000))
                if channel != "staff"
                else "",
                reporter_phone=names.mobile(rng) if channel in ("resident", "hotline") else "",
                user=dispatcher if channel in ("hotline", "staff") else None,
            )
        created.append(case.pk)
        _advance(case, rng, reported, now, dispatcher, staff, services, clock)
        if n % 100 == 99:
            write(f"cases: {n + 1}/{count}")
    Case.objects.filter(pk__in=created).update(data_source=DEMO)
    FollowUpVisit.objects.filter(case_id__in=created).update(data_source=DEMO)
    from zhili.cases import sla

    sla.sweep(now=now)
    town.counts[Case._meta.label] += len(created)
    town.counts[CaseEvent._meta.label] += CaseEvent.objects.filter(case_id__in=created).count()


def _advance(case, rng, reported, now, dispatcher, staff, services, clock):
    """Walk a case along the loop; older cases got further. Times stay before ``now``."""
    age_hours = (now - reported).total_seconds() / 3600
    moment = reported
    steps = []
    if rng.random() < 0.05:
        steps = [("reject", "不属于本镇职责范围，已告知来电人向县级部门反映。")]
    else:
        steps = [
            ("accept", ""),
            ("dispatch", ""),
            ("start", ""),
            ("complete", "现场已处置。"),
            ("feedback", None),
            ("review_pass", ""),
        ]
    # how far the case got: proportional to its age, with some randomness (a few late ones)
    pace = rng.uniform(0.4, 1.6)
    thresholds = [1, 3, 20, 24 * 5, 24 * 6, 24 * 8] if len(steps) > 1 else [1]
    reach = sum(1 for hours in thresholds if age_hours > hours * pace)
    if rng.random() < 0.06:
        reach = min(reach, 3)  # stuck in handling: will show as overdue
    handler = staff.get(case.department_id) if case.department_id else None
    for name, note in steps[: max(0, reach)]:
        if case.status not in services.TRANSITIONS[name].sources:
            continue
        moment = min(now, moment + dt.timedelta(hours=rng.uniform(0.2, 30 if name == "complete" else 3)))
        user = handler if name in ("start", "complete") else dispatcher
        with clock.frozen(moment), transaction.atomic():
            services._apply(
                case,
                name,
                user,
                moment,
                note=note if note is not None else FEEDBACK[rng.randrange(len(FEEDBACK))],
                lon=case.bbox_minx if name in ("start", "complete") else None,
                lat=case.bbox_miny if name in ("start", "complete") else None,
            )
        if name == "dispatch":
            handler = staff.get(case.department_id)
    if case.status == "closed":
        if rng.random() < 0.75:
            with clock.frozen(min(now, moment + dt.timedelta(hours=6))):
                services.rate(case, rng.choices([5, 4, 3, 2, 1], weights=[55, 25, 10, 6, 4])[0], "")
        if rng.random() < 0.03:
            with clock.frozen(min(now, moment + dt.timedelta(days=1))), transaction.atomic():
                services._apply(
                    case,
                    "reopen",
                    None,
                    min(now, moment + dt.timedelta(days=1)),
                    note="群众反映问题复发（演示）",
                )


def delete_demo(write):
    from zhili.cases.models import Case, RoutingRule

    deleted, _detail = Case.objects.filter(data_source=DEMO).delete()
    RoutingRule.objects.filter(data_source=DEMO).delete()
    write(f"cases: deleted {deleted} demo rows")
