"""Pages and API of the loop: resident report and follow link, hotline, case page actions,
queues, bulk dispatch, map, statistics, notices; data scopes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from zhili.cases import services
from zhili.cases.models import Case, CaseCategory, Status
from zhili.cases.tests.factories import make_case, make_user, point
from zhili.cases.tests.test_open311 import PNG
from zhili.orgs.tests.factories import make_department
from zhili.places.tests.factories import make_grid

pytestmark = [pytest.mark.django_db, pytest.mark.req("R-6-cases")]


@pytest.mark.req("R-0-mobile", "R-5.2.4")
def test_resident_reports_without_account_and_follows_by_link(client):
    page = client.get(reverse("cases:report"))
    assert page.status_code == 200 and 'capture="environment"' in page.content.decode()
    assert "<script>" not in page.content.decode().replace('<script src="', "")  # no inline code
    response = client.post(
        reverse("cases:report"),
        {
            "category": "city.sanitation",
            "description": "小区门口垃圾堆积三天了",
            "longitude": "119.93",
            "latitude": "30.23",
            "phone": "13900001111",
            "name": "李四",
            "photos": [SimpleUploadedFile("a.png", PNG, content_type="image/png")],
        },
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert (
        case.channel == "resident" and case.reporter_phone == "13900001111" and case.attachments.count() == 1
    )
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    assert case.follow_digest == services.token_digest(token)
    page = client.get(response["Location"])
    text = page.content.decode()
    assert "小区门口垃圾堆积三天了" in text and case.number in text and 'id="case-received"' in text
    assert "13900001111" not in text  # the follow page shows no contact data
    qr = client.get(reverse("cases:follow_qr", args=[token]))
    assert qr.status_code == 200 and qr["Content-Type"].startswith("image/svg+xml") and b"<svg" in qr.content
    assert client.get(reverse("cases:follow", args=["wrong-token"])).status_code == 404


def test_report_form_errors_save_nothing(client):
    response = client.post(
        reverse("cases:report"), {"category": "city.road", "description": "", "phone": "12"}
    )
    assert response.status_code == 400
    assert Case.objects.count() == 0
    text = response.content.decode()
    assert "invalid-feedback" in text
    response = client.post(
        reverse("cases:report"),
        {"category": "pipe.leak", "description": "燃气味", "anonymous": "on", "address": "人民路1号"},
    )
    assert response.status_code == 400 and Case.objects.count() == 0
    response = client.post(
        reverse("cases:report"),
        {
            "category": "city.road",
            "description": "x",
            "phone": "13900001111",
            "address": "a",
            "photos": [SimpleUploadedFile("a.exe", b"MZ...", content_type="application/octet-stream")],
        },
    )
    assert response.status_code == 400 and Case.objects.count() == 0


def test_similar_cases_are_suggested_while_reporting(client):
    make_case("city.road", title="人民路坑洼", location=point(119.93, 30.23))
    response = client.get(
        reverse("cases:similar"), {"category": "city.road", "longitude": "119.9301", "latitude": "30.2301"}
    )
    assert "人民路坑洼" in response.content.decode()
    response = client.get(
        reverse("cases:similar"),
        {"category": "city.greening", "longitude": "119.9301", "latitude": "30.2301"},
    )
    assert response.content.strip() == b""
    assert (
        client.get(reverse("cases:similar"), {"category": "city.road", "longitude": "x"}).status_code == 200
    )


def test_rating_from_follow_page(client):
    dispatcher = make_user()
    case = make_case()
    token = case.follow_token
    for name, note in (("accept", ""), ("dispatch", ""), ("complete", "ok"), ("feedback", "已处理完毕")):
        case = (
            services.transition(
                case,
                name,
                dispatcher,
                note=note,
                department=make_department() if name == "dispatch" else None,
            )
            if name == "dispatch"
            else services.transition(case, name, dispatcher, note=note)
        )
    page = client.get(reverse("cases:follow", args=[token]))
    assert "已处理完毕" in page.content.decode() and 'id="rate-form"' in page.content.decode()
    response = client.post(
        reverse("cases:follow", args=[token]), {"rating": "5", "resolved": "1", "comment": "很快"}
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.rating == 5 and case.resolved is True
    assert client.post(reverse("cases:follow", args=[token]), {"rating": "9"}).status_code == 400


def test_hotline_case_page_actions_and_api(client):
    department = make_department()
    operator = make_user("operator")
    client.force_login(operator)
    response = client.post(
        reverse("cases:hotline"),
        {
            "channel": "hotline",
            "category": "social.dispute",
            "description": "楼上漏水纠纷",
            "address": "幸福小区3幢",
            "phone": "13700002222",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get(channel="hotline")
    page = client.get(reverse("cases:case_detail", args=[case.pk]))
    assert page.status_code == 200 and 'data-action="accept"' in page.content.decode()
    client.post(reverse("cases:case_action", args=[case.pk, "accept"]), {"note": "受理"})
    client.post(
        reverse("cases:case_action", args=[case.pk, "dispatch"]), {"department": department.pk, "note": ""}
    )
    case.refresh_from_db()
    assert case.status == Status.DISPATCHED and case.department == department
    response = client.post(
        reverse("cases:case_action", args=[case.pk, "complete"]), {"note": ""}, follow=True
    )
    assert "note" not in response.content.decode() or Case.objects.get(pk=case.pk).status == Status.DISPATCHED
    api = client.post(
        reverse("cases_api:action", args=[case.pk, "complete"]),
        {"note": "已调解", "latitude": 30.2, "longitude": 119.9},
        content_type="application/json",
    )
    assert api.status_code == 200 and api.json()["status"] == "handled"
    bad = client.post(
        reverse("cases_api:action", args=[case.pk, "review_pass"]), {}, content_type="application/json"
    )
    assert bad.status_code == 400
    timeline = client.get(reverse("cases_api:timeline", args=[case.pk])).json()
    assert [e["kind"] for e in timeline["events"]] == ["register", "accept", "dispatch", "complete"]
    assert "feedback" in timeline["actions"]
    created = client.post(
        reverse("cases_api:open"),
        {"category": "env.dust", "title": "工地扬尘", "channel": "inspection"},
        content_type="application/json",
    )
    assert created.status_code == 201
    assert (
        client.post(
            reverse("cases_api:open"), {"category": "nope", "title": "x"}, content_type="application/json"
        ).status_code
        == 400
    )


def test_queues_bulk_dispatch_map_and_statistics(client):
    department = make_department()
    road = CaseCategory.objects.get(code="city.road")
    road.default_department = department
    road.save()
    centre = make_user("centre")
    client.force_login(centre)
    cases = [make_case() for _ in range(3)]
    page = client.get(reverse("cases:queue"), {"queue": "intake"})
    assert page.status_code == 200 and all(c.number in page.content.decode() for c in cases)
    assert "sla-ok" in page.content.decode()
    response = client.post(reverse("cases:bulk_dispatch"), {"ids": [c.pk for c in cases[:2]]})
    assert response.status_code == 302
    assert Case.objects.filter(status=Status.DISPATCHED, department=department).count() == 2
    data = client.get(reverse("cases:map_data")).json()
    assert len(data["features"]) == 3 and data["features"][0]["geometry"]["type"] == "Point"
    heat = client.get(reverse("cases:map_data"), {"kind": "heat", "days": "30"}).json()
    assert sum(f["properties"]["count"] for f in heat["features"]) == 3
    assert client.get(reverse("cases:map")).status_code == 200
    stats = client.get(reverse("cases:stats"), {"days": "30"})
    assert stats.status_code == 200 and 'id="case-chart-data"' in stats.content.decode()
    assert stats.context["report"]["totals"]["total"] == 3
    export = client.get(reverse("cases:stats"), {"days": "30", "format": "xlsx"})
    assert export.status_code == 200 and export.content[:2] == b"PK"
    assert client.get(reverse("cases:stats"), {"format": "pdf"}).status_code == 400


def test_hotspots_flag_a_grid_category_above_its_usual_rate():
    import datetime as dt

    from zhili.cases import clock, stats

    grid = make_grid()
    now = clock.now()
    for days_ago in (1, 2, 3, 3, 4, 5):
        with clock.frozen(now - dt.timedelta(days=days_ago)):
            make_case(grid=grid)
    with clock.frozen(now - dt.timedelta(days=30)):
        make_case(grid=grid)
    spots = stats.hotspots(Case.objects.all(), now)
    assert spots and spots[0]["grid"] == grid.name and spots[0]["recent"] == 6
    features = stats.hotspot_features(Case.objects.all(), now)["features"]
    assert features[0]["geometry"]["type"] == "Polygon" and grid.name in features[0]["properties"]["name"]


@pytest.mark.req("R-10.3-rbac")
def test_department_and_grid_worker_see_only_their_cases(client):
    dep_a, dep_b = make_department(), make_department()
    grid_a = make_grid()
    worker = make_user("grid_worker", actions=("view",))
    grid_a.members.add(worker)
    a_user = make_user("dep_a_user", department=dep_a, actions=("view", "handle"))
    dispatcher = make_user("disp")
    in_a = make_case(title="甲部门的", location=point(119.99, 30.29))
    services.transition(
        services.transition(in_a, "accept", dispatcher), "dispatch", dispatcher, department=dep_a
    )
    in_b = make_case(title="乙部门的", location=point(119.99, 30.29))
    services.transition(
        services.transition(in_b, "accept", dispatcher), "dispatch", dispatcher, department=dep_b
    )
    in_grid = make_case(title="网格里的", grid=grid_a, location=point(119.99, 30.29))
    assert set(Case.objects.restrict(a_user)) == {in_a}
    assert set(Case.objects.restrict(worker)) == {in_grid}
    assert set(Case.objects.restrict(dispatcher)) == {in_a, in_b, in_grid}
    client.force_login(a_user)
    assert client.get(reverse("cases:case_detail", args=[in_b.pk])).status_code == 404
    page = client.get(reverse("cases:queue"), {"queue": "department"}).content.decode()
    assert in_a.number in page and in_b.number not in page
    assert client.post(reverse("cases:case_action", args=[in_b.pk, "start"]), {}).status_code == 404
    assert (
        client.post(
            reverse("cases_api:action", args=[in_b.pk, "start"]), {}, content_type="application/json"
        ).status_code
        == 404
    )
    assert client.get(f"/api/cases/cases/{in_b.pk}/").status_code == 404
