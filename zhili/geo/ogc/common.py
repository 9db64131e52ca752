"""What the three OGC services share: KVP parameters, exception reports, CRS handling."""

from xml.sax.saxutils import escape, quoteattr

from django.http import HttpResponse

OWS_NS = "http://www.opengis.net/ows/1.1"
#: CRS the services accept, as codes; EPSG:4490/4326 are lat/lon axis order in WMS 1.3.0 and WFS 2.0.
GEOGRAPHIC = ("EPSG:4490", "EPSG:4326")
SUPPORTED_CRS = ("EPSG:4490", "EPSG:4326", "EPSG:3857", "CRS:84")
CRS_ALIASES = {
    "EPSG:900913": "EPSG:3857",
    "EPSG:102100": "EPSG:3857",
    "OGC:CRS84": "CRS:84",
}


class OGCError(Exception):
    """An error reported as an OGC exception report with ``code`` and HTTP ``status``."""

    def __init__(self, code: str, message: str, locator: str = "", status: int = 400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.locator = locator
        self.status = status


def normalize_crs(text: str) -> str | None:
    """Return one of SUPPORTED_CRS for ``EPSG:4326``, ``urn:ogc:def:crs:EPSG::4326``,
    ``http://www.opengis.net/def/crs/EPSG/0/4326`` … or None."""
    value = (text or "").strip()
    upper = value.upper()
    if upper.startswith("URN:OGC:DEF:CRS:"):
        parts = upper.split(":")
        code = parts[-1]
        authority = parts[4] if len(parts) > 4 else ""
        upper = f"CRS:{code}" if authority == "OGC" and code == "CRS84" else f"{authority}:{code}"
        if upper == "CRS:CRS84":
            upper = "CRS:84"
    elif upper.startswith("HTTP://WWW.OPENGIS.NET/DEF/CRS/"):
        parts = upper.rstrip("/").split("/")
        upper = "CRS:84" if parts[-1] == "CRS84" else f"{parts[-3]}:{parts[-1]}"
    upper = CRS_ALIASES.get(upper, upper)
    return upper if upper in SUPPORTED_CRS else None


class Params:
    """Case-insensitive KVP parameters of a request."""

    def __init__(self, request):
        self.values = {key.lower(): value for key, value in request.GET.items()}

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name.lower(), default)

    def require(self, name: str) -> str:
        value = self.get(name).strip()
        if not value:
            raise OGCError("MissingParameterValue", f"Parameter {name} is required.", name)
        return value

    def integer(self, name: str, default=None, minimum=0, maximum=None):
        text = self.get(name).strip()
        if not text:
            return default
        try:
            value = int(text)
        except ValueError:
            raise OGCError("InvalidParameterValue", f"{name} must be an integer.", name) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise OGCError("InvalidParameterValue", f"{name} is out of range.", name)
        return value

    def floats(self, name: str, count: int) -> list[float]:
        import math

        text = self.require(name)
        try:
            values = [float(v) for v in text.split(",")[:count]]
        except ValueError:
            raise OGCError("InvalidParameterValue", f"{name} must be {count} numbers.", name) from None
        if len(values) != count or not all(math.isfinite(v) for v in values):
            raise OGCError("InvalidParameterValue", f"{name} must be {count} numbers.", name)
        return values


def ows_exception(error: OGCError, version: str = "2.0.0") -> HttpResponse:
    """Return an OWS Common ExceptionReport (WFS 2.0, WMTS 1.0)."""
    ns = "http://www.opengis.net/ows/1.1" if version.startswith("1") else "http://www.opengis.net/ows/1.1"
    locator = f" locator={quoteattr(error.locator)}" if error.locator else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<ows:ExceptionReport xmlns:ows="{ns}" version="{version}" xml:lang="en">'
        f'<ows:Exception exceptionCode="{escape(error.code)}"{locator}>'
        f"<ows:ExceptionText>{escape(error.message)}</ows:ExceptionText></ows:Exception></ows:ExceptionReport>"
    )
    response = HttpResponse(body, content_type="application/xml; charset=utf-8", status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Token realm="api"'
    return response


def wms_exception(error: OGCError) -> HttpResponse:
    """Return a WMS 1.3.0 ServiceExceptionReport (HTTP 200 is allowed by WMS, but we keep the status)."""
    locator = f" locator={quoteattr(error.locator)}" if error.locator else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ServiceExceptionReport version="1.3.0" xmlns="http://www.opengis.net/ogc">'
        f'<ServiceException code="{escape(error.code)}"{locator}>{escape(error.message)}</ServiceException>'
        "</ServiceExceptionReport>"
    )
    response = HttpResponse(body, content_type="text/xml; charset=utf-8", status=error.status)
    if error.status == 401:
        response["WWW-Authenticate"] = 'Token realm="api"'
    return response


def x(text) -> str:
    return escape(str(text))
