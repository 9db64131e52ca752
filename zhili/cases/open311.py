"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2) at ``/open311/v2/``.

Reading is public (services and the public cases, without personal data), as FixMyStreet and
other clients expect; posting needs ``api_key`` = one of our API tokens, whose user must be
allowed to add cases. Every answer is JSON or XML by the URL's suffix, UTF-8, with ISO 8601
times carrying their zone; errors are the spec's list of ``{code, description}``.
"""

import datetime as dt
import xml.etree.ElementTree as ET

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from zhili.accounts.tokens import user_for_token
from zhili.cases import services
from zhili.cases.forms import MAX_PHOTO_BYTES, PHOTO_TYPES
from zhili.cases.models import OPEN_STATES, Case, CaseCategory, Status
from zhili.core import audit
from zhili.core.permissions import has_action

SPEC = "http://wiki.open311.org/GeoReport_v2"
FORMATS = ("json", "xml")
MAX_PAGE_SIZE = 1000
DEFAULT_DAYS = 90

STATUS_NOTES = {
    Status.REGISTERED: "Received, waiting to be accepted.",
    Status.ACCEPTED: "Accepted, being assigned to a department.",
    Status.DISPATCHED: "Assigned to the responsible department.",
    Status.HANDLING: "Being handled.",
    Status.HANDLED: "Handled; feedback to the reporter follows.",
    Status.FEEDBACK: "Handled; the result is being reviewed on site.",
    Status.CLOSED: "Closed.",
    Status.REJECTED: "Closed: not a case for the town.",
    Status.MERGED: "Closed: duplicate of another request.",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str):
        super().__init__(description)
        self.status = status
        self.description = description


def iso(value) -> str | None:
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _xml(root_name: str, item_name: str | None, data) -> bytes:
    def fill(element, value, name=None):
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, list):
                    holder = ET.SubElement(element, key)
                    child_name = {
                        "attributes": "attribute",
                        "values": "value",
                        "endpoints": "endpoint",
                        "formats": "format",
                    }.get(key, "item")
                    for entry in inner:
                        fill(ET.SubElement(holder, child_name), entry)
                else:
                    fill(ET.SubElement(element, key), inner)
        elif isinstance(value, bool):
            element.text = "true" if value else "false"
        elif value is not None:
            element.text = str(value)

    root = ET.Element(root_name)
    if item_name is None:
        fill(root, data)
    else:
        for entry in data:
            fill(ET.SubElement(root, item_name), entry)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="utf-8")


def respond(fmt: str, data, root: str, item: str | None, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(_xml(root, item, data), status=status, content_type="text/xml; charset=utf-8")
    return JsonResponse(
        data,
        status=status,
        safe=False,
        json_dumps_params={"ensure_ascii": False},
        content_type="application/json; charset=utf-8",
    )


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return respond(fmt, [{"code": status, "description": description}], "errors", "error", status=status)


def endpoint(view):
    """Open to anonymous clients, CSRF-exempt (POST authenticates by api_key), errors as the spec says."""

    def wrapper(request, *args, fmt="json", **kwargs):
        if fmt not in FORMATS:
            return error("json", 400, "Unsupported format; use .json or .xml.")
        try:
            return view(request, *args, fmt=fmt, **kwargs)
        except Open311Error as exc:
            return error(fmt, exc.status, exc.description)

    wrapper.__name__ = view.__name__
    wrapper.__doc__ = view.__doc__
    return login_not_required(csrf_exempt(wrapper))


def _public_categories():
    return CaseCategory.objects.filter(is_active=True, is_public=True, children__isnull=True).select_related(
        "parent"
    )


@endpoint
def discovery(request, fmt):
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    base = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": "json"})).rsplit("/", 1)[0]
    data = {
        "changeset": iso(
            CaseCategory.objects.order_by("-updated_at").values_list("updated_at", flat=True).first()
        ),
        "contact": "12345",
        "key_service": "API keys are issued by the town's system administrator (API tokens).",
        "endpoints": [
            {
                "specification": SPEC,
                "url": base,
                "changeset": "2026-11-24T00:00:00+08:00",
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return respond(fmt, data, "discovery", None)


def _service(category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description or category.name,
        "metadata": bool(category.extra_questions),
        "type": "realtime",
        "keywords": ",".join(category.keywords.split()),
        "group": category.parent.name if category.parent_id else "",
    }


@endpoint
def service_list(request, fmt):
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    return respond(
        fmt, [_service(c) for c in _public_categories().order_by("sort_order", "code")], "services", "service"
    )


def _category(code: str):
    category = _public_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"Unknown service_code: {code}")
    return category


@endpoint
def service_definition(request, code, fmt):
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    category = _category(code)
    attributes = []
    for order, q in enumerate(category.extra_questions or [], start=1):
        if not isinstance(q, dict) or not q.get("code"):
            continue
        datatype = q.get("datatype", "string")
        attribute = {
            "variable": True,
            "code": q["code"],
            "datatype": datatype,
            "required": bool(q.get("required")),
            "datatype_description": q.get("datatype_description", ""),
            "order": order,
            "description": q.get("description", q["code"]),
        }
        if datatype in ("singlevaluelist", "multivaluelist"):
            attribute["values"] = [{"key": v.get("key"), "name": v.get("name")} for v in q.get("values", [])]
        attributes.append(attribute)
    data = {"service_code": category.code, "attributes": attributes}
    return respond(fmt, data, "service_definition", None)


def _request_row(case, request) -> dict:
    status = "open" if case.status in OPEN_STATES else "closed"
    note = case.feedback or case.reject_reason or STATUS_NOTES.get(case.status, "")
    photo = next((a for a in case.attachments.all()), None)
    media = None
    if photo is not None:
        media = request.build_absolute_uri(photo.link) if photo.file else photo.url
    return {
        "service_request_id": str(case.pk),
        "status": status,
        "status_notes": note,
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": case.description,
        "agency_responsible": case.department.name if case.department_id else "",
        "service_notice": "",
        "requested_datetime": iso(case.reported_at),
        "updated_datetime": iso(case.updated_at),
        "expected_datetime": iso(case.due_at) if status == "open" else None,
        "address": case.address,
        "address_id": "",
        "zipcode": "",
        "lat": case.bbox_miny,
        "long": case.bbox_minx,
        "media_url": media,
    }


def _date(value: str, name: str):
    parsed = parse_datetime(value) if value else None
    if value and parsed is None:
        raise Open311Error(400, f"{name} must be a W3C (ISO 8601) date-time.")
    if parsed is not None and timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed)
    return parsed


def _int_param(request, name, default, low, high):
    value = request.GET.get(name, "")
    if value == "":
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise Open311Error(400, f"{name} must be a whole number from {low} to {high}.")
    return int(value)


def _cases():
    return (
        Case.objects.filter(category__is_public=True)
        .select_related("category", "department")
        .prefetch_related("attachments")
    )


@endpoint
def requests_view(request, fmt):
    if request.method == "POST":
        return _post_request(request, fmt)
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    qs = _cases()
    ids = request.GET.get("service_request_id", "")
    if ids:
        wanted = [part.strip() for part in ids.split(",") if part.strip()]
        if not all(part.isdigit() for part in wanted):
            raise Open311Error(400, "service_request_id must be a comma-separated list of ids.")
        qs = qs.filter(pk__in=[int(p) for p in wanted])
    else:
        codes = [c.strip() for c in request.GET.get("service_code", "").split(",") if c.strip()]
        if codes:
            qs = qs.filter(category__code__in=codes)
        status = request.GET.get("status", "")
        states = {s.strip() for s in status.split(",") if s.strip()}
        if states - {"open", "closed"}:
            raise Open311Error(400, "status must be open or closed.")
        if states == {"open"}:
            qs = qs.filter(status__in=OPEN_STATES)
        elif states == {"closed"}:
            qs = qs.exclude(status__in=OPEN_STATES)
        start = _date(request.GET.get("start_date", ""), "start_date")
        end = _date(request.GET.get("end_date", ""), "end_date")
        if start is None and end is None:
            start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
        if start is not None:
            qs = qs.filter(reported_at__gte=start)
        if end is not None:
            qs = qs.filter(reported_at__lte=end)
    page = _int_param(request, "page", 1, 1, 10**6)
    size = _int_param(request, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    rows = qs.order_by("-reported_at", "-pk")[(page - 1) * size : page * size]
    return respond(fmt, [_request_row(c, request) for c in rows], "service_requests", "request")


@endpoint
def request_detail(request, pk, fmt):
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    case = _cases().filter(pk=pk).first() if str(pk).isdigit() else None
    if case is None:
        raise Open311Error(404, f"No service request with id {pk}.")
    return respond(fmt, [_request_row(case, request)], "service_requests", "request")


@endpoint
def token_view(request, token, fmt):
    if request.method != "GET":
        raise Open311Error(405, "Method not allowed.")
    case = services.case_for_token(token)
    if case is None:
        raise Open311Error(404, "Unknown token.")
    return respond(fmt, [{"service_request_id": str(case.pk), "token": token}], "service_requests", "request")


def _coordinate(value: str, name: str, low: float, high: float):
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be a decimal number (WGS84/CGCS2000 degrees).") from None
    if not low <= number <= high or number != number:
        raise Open311Error(400, f"{name} is out of range ({low} to {high}).")
    return number


def _post_request(request, fmt):
    data = request.POST
    user = user_for_token(data.get("api_key", "") or request.GET.get("api_key", ""))
    if user is None:
        audit.emit("open311.post", success=False, details={"reason": "api_key"})
        raise Open311Error(403, "A valid api_key is required.")
    if not has_action(user, Case, "add"):
        raise Open311Error(403, "This api_key may not create service requests.")
    code = data.get("service_code", "").strip()
    if not code:
        raise Open311Error(400, "service_code is required.")
    category = _public_categories().filter(code=code).first()
    if category is None:
        raise Open311Error(404, f"Unknown service_code: {code}")
    lat = _coordinate(data.get("lat"), "lat", -90, 90)
    lon = _coordinate(data.get("long"), "long", -180, 180)
    if (lat is None) != (lon is None):
        raise Open311Error(400, "lat and long must be given together.")
    address = data.get("address_string", "").strip()[:200]
    if lat is None and not address and not data.get("address_id"):
        raise Open311Error(400, "A location is required: lat and long, address_string or address_id.")
    answers = {}
    for q in category.extra_questions or []:
        if not isinstance(q, dict) or not q.get("code"):
            continue
        value = data.get(f"attribute[{q['code']}]", "")
        if q.get("required") and not value:
            raise Open311Error(400, f"attribute[{q['code']}] is required.")
        if value:
            answers[q["code"]] = value[:500]
    attachments = []
    for upload in request.FILES.getlist("media"):
        if upload.size > MAX_PHOTO_BYTES or (upload.content_type or "").split(";")[0] not in PHOTO_TYPES:
            raise Open311Error(400, "media must be a photo (JPEG, PNG, WebP, HEIC) of at most 10 MB.")
        attachments.append(upload)
    media_url = data.get("media_url", "").strip()
    if media_url:
        if not media_url.startswith(("http://", "https://")) or len(media_url) > 500:
            raise Open311Error(400, "media_url must be an http(s) URL.")
        attachments.append({"url": media_url})
    name = " ".join(p for p in (data.get("last_name", ""), data.get("first_name", "")) if p).strip()
    description = data.get("description", "").strip()[:4000]
    try:
        case = services.open_case(
            category=code,
            title=(description.splitlines()[0][:60] if description else category.name),
            description=description,
            channel="open311",
            location={"type": "Point", "coordinates": [lon, lat]} if lat is not None else None,
            address=address,
            reporter_name=name,
            reporter_phone=data.get("phone", "")[:20],
            user=user,
            attachments=attachments,
            answers=answers,
        )
    except ValidationError as exc:
        messages = exc.message_dict if hasattr(exc, "message_dict") else {"": exc.messages}
        raise Open311Error(400, "; ".join(m for ms in messages.values() for m in ms)) from None
    audit.emit("open311.post", user=user, obj=case, details={"service_code": code})
    row = {
        "service_request_id": str(case.pk),
        "token": case.follow_token,
        "service_notice": "",
        "account_id": data.get("account_id", ""),
    }
    return respond(fmt, [row], "service_requests", "request", status=201)
