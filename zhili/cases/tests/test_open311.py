"""Open311 GeoReport v2 conformance with a plain HTTP client against the running server."""

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ET

import pytest
from django.utils.dateparse import parse_datetime

from zhili.accounts.tokens import create_token
from zhili.cases.models import Case, CaseCategory
from zhili.cases.tests.factories import ensure_categories, make_case, make_user

pytestmark = [pytest.mark.req("R-6-cases"), pytest.mark.req("R-5.2.4")]

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


def fetch(url, data=None, headers=None):
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 (loopback test server)
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type"), exc.read()


def parse(fmt, body):
    return json.loads(body) if fmt == "json" else ET.fromstring(body)


def post_form(url, fields):
    return fetch(
        url, urllib.parse.urlencode(fields).encode(), {"Content-Type": "application/x-www-form-urlencoded"}
    )


def post_multipart(url, fields, files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content, ctype) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {ctype}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return fetch(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})


@pytest.fixture
def api(live_server, transactional_db):
    ensure_categories()
    user = make_user("open311_client", actions=("view", "add"))
    _token, key = create_token(user, "FixMyStreet")
    road = CaseCategory.objects.get(code="city.road")
    road.extra_questions = [
        {
            "code": "size",
            "description": "坑洼大小",
            "datatype": "singlevaluelist",
            "required": False,
            "values": [{"key": "small", "name": "小"}, {"key": "large", "name": "大"}],
        },
    ]
    road.save()
    case = make_case("city.road", description="人民路坑洼")
    make_case("device.fault", title="内部设备故障")  # private category: never listed
    return {"base": f"{live_server.url}/open311/v2", "key": key, "case": case}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_discovery_and_services(api, fmt):
    status, ctype, body = fetch(f"{api['base']}/discovery.{fmt}")
    assert status == 200 and "charset=utf-8" in ctype
    doc = parse(fmt, body)
    if fmt == "json":
        assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    else:
        assert doc.tag == "discovery" and doc.find("endpoints/endpoint/specification").text.endswith(
            "GeoReport_v2"
        )
    status, ctype, body = fetch(f"{api['base']}/services.{fmt}")
    assert status == 200
    doc = parse(fmt, body)
    services = doc if fmt == "json" else [{c.tag: c.text for c in s} for s in doc.findall("service")]
    codes = {s["service_code"] for s in services}
    assert "city.road" in codes and "device.fault" not in codes and "city" not in codes
    road = next(s for s in services if s["service_code"] == "city.road")
    assert road["service_name"] == "道路设施破损" and str(road["metadata"]).lower() == "true"
    assert road["type"] == "realtime"
    status, _c, body = fetch(f"{api['base']}/services/city.road.{fmt}")
    assert status == 200
    doc = parse(fmt, body)
    if fmt == "json":
        attribute = doc["attributes"][0]
        assert attribute["code"] == "size" and attribute["values"][1] == {"key": "large", "name": "大"}
        assert attribute["variable"] is True and attribute["order"] == 1
    else:
        assert doc.tag == "service_definition"
        assert doc.find("attributes/attribute/code").text == "size"
        assert doc.find("attributes/attribute/values/value/name").text == "小"


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_get_and_token(api, fmt):
    status, _c, body = post_multipart(
        f"{api['base']}/requests.{fmt}",
        {
            "api_key": api["key"],
            "service_code": "city.road",
            "lat": "30.2301",
            "long": "119.9301",
            "description": "井盖缺失，很危险",
            "attribute[size]": "large",
            "first_name": "明",
            "last_name": "王",
            "media_url": "https://example.org/photo.jpg",
        },
        {"media": ("hole.png", PNG, "image/png")},
    )
    assert status == 201, body
    doc = parse(fmt, body)
    row = doc[0] if fmt == "json" else {c.tag: c.text for c in doc.find("request")}
    case = Case.objects.get(pk=int(row["service_request_id"]))
    assert case.channel == "open311" and case.answers == {"size": "large"} and case.reporter_name == "王 明"
    assert case.attachments.count() == 2
    assert case.point == pytest.approx((119.9301, 30.2301))
    status, _c, body = fetch(f"{api['base']}/tokens/{row['token']}.{fmt}")
    assert status == 200
    doc = parse(fmt, body)
    got = doc[0]["service_request_id"] if fmt == "json" else doc.find("request/service_request_id").text
    assert got == str(case.pk)
    status, _c, body = fetch(f"{api['base']}/requests/{case.pk}.{fmt}")
    assert status == 200
    doc = parse(fmt, body)
    item = doc[0] if fmt == "json" else {c.tag: c.text for c in doc.find("request")}
    assert item["status"] == "open" and item["service_code"] == "city.road"
    assert float(item["lat"]) == pytest.approx(30.2301) and float(item["long"]) == pytest.approx(119.9301)
    stamp = parse_datetime(item["requested_datetime"])
    assert stamp.utcoffset() is not None and item["requested_datetime"].endswith("+08:00")
    assert item["media_url"].startswith("http")
    # list with filters and paging
    status, _c, body = fetch(
        f"{api['base']}/requests.{fmt}?service_code=city.road&status=open&page_size=1&page=1"
    )
    assert status == 200
    doc = parse(fmt, body)
    assert len(doc if fmt == "json" else doc.findall("request")) == 1
    status, _c, body = fetch(f"{api['base']}/requests.{fmt}?service_request_id={case.pk},{api['case'].pk}")
    doc = parse(fmt, body)
    assert len(doc if fmt == "json" else doc.findall("request")) == 2
    status, _c, body = fetch(f"{api['base']}/requests.{fmt}?status=closed")
    doc = parse(fmt, body)
    assert len(doc if fmt == "json" else doc.findall("request")) == 0
    status, _c, body = fetch(f"{api['base']}/requests.{fmt}?service_code=device.fault")
    assert len(parse(fmt, body)) == 0


def error_of(fmt, body):
    doc = parse(fmt, body)
    if fmt == "json":
        return doc[0]["code"], doc[0]["description"]
    assert doc.tag == "errors"
    return int(doc.find("error/code").text), doc.find("error/description").text


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_requests_get_spec_error_bodies(api, fmt):
    base, key = api["base"], api["key"]
    cases = [
        (
            post_form(f"{base}/requests.{fmt}", {"api_key": key, "lat": "30.2", "long": "119.9"}),
            400,
            "service_code",
        ),
        (
            post_form(
                f"{base}/requests.{fmt}",
                {"api_key": key, "service_code": "city.road", "lat": "abc", "long": "119.9"},
            ),
            400,
            "lat",
        ),
        (
            post_form(
                f"{base}/requests.{fmt}",
                {"api_key": key, "service_code": "city.road", "lat": "95", "long": "119.9"},
            ),
            400,
            "lat",
        ),
        (post_form(f"{base}/requests.{fmt}", {"api_key": key, "service_code": "city.road"}), 400, "location"),
        (
            post_form(
                f"{base}/requests.{fmt}",
                {"api_key": key, "service_code": "no.such", "lat": "30", "long": "120"},
            ),
            404,
            "no.such",
        ),
        (
            post_form(
                f"{base}/requests.{fmt}",
                {"api_key": "zl_wrong", "service_code": "city.road", "lat": "30", "long": "120"},
            ),
            403,
            "api_key",
        ),
        (
            post_form(f"{base}/requests.{fmt}", {"service_code": "city.road", "lat": "30", "long": "120"}),
            403,
            "api_key",
        ),
        (fetch(f"{base}/services/no.such.{fmt}"), 404, "no.such"),
        (fetch(f"{base}/requests/999999.{fmt}"), 404, "999999"),
        (fetch(f"{base}/requests/abc.{fmt}"), 404, "abc"),
        (fetch(f"{base}/tokens/nope.{fmt}"), 404, "token"),
        (fetch(f"{base}/requests.{fmt}?start_date=yesterday"), 400, "start_date"),
        (fetch(f"{base}/requests.{fmt}?status=pending"), 400, "status"),
        (fetch(f"{base}/requests.{fmt}?page_size=5000"), 400, "page_size"),
    ]
    for (status, ctype, body), expected, word in cases:
        assert status == expected, body
        assert "charset=utf-8" in ctype
        code, description = error_of(fmt, body)
        assert code == expected and word in description
    assert Case.objects.filter(channel="open311").count() == 0
