"""IoT pages: live alarm board (SSE), device map, credentials, rules as JSON, HTTP ingestion."""

from django.http import HttpResponse


def _todo(request, *args, **kwargs):
    return HttpResponse(status=501)


alarm_board = alarm_stream = alarm_feed = alarm_acknowledge = alarm_close = alarm_open_case = _todo
device_map = device_geojson = credential_issue = credential_revoke = device_series = _todo
rules_export = rules_import = http_ingest = _todo
