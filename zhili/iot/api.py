"""REST actions on alarms (token or session auth), next to the registered CRUD API at
``/api/iot/alarms/``: ``POST /iot/api/alarms/{id}/acknowledge/``, ``…/close/`` (``note``),
``…/open-case/``. They answer JSON and go through the same permission checks and audit."""

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from zhili.core.permissions import get_in_scope, require_action
from zhili.iot import alarms as engine
from zhili.iot.models import Alarm


def _alarm(request, pk, action):
    """The alarm the user may act on; a refusal is a 403 and a missing (or out-of-scope) one a 404,
    both through the API's exception handler (which audits the refusal)."""
    require_action(request.user, Alarm, action, audit_refusal=False)
    return get_in_scope(Alarm, request.user, pk, action)


def _done(alarm):
    from zhili.iot.views import alarm_json

    alarm = Alarm.objects.select_related("device", "rule").get(pk=alarm.pk)
    return Response({**alarm_json(alarm), "case_id": alarm.case_id})


@login_not_required
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def acknowledge(request, pk):
    alarm = _alarm(request, pk, "acknowledge")
    try:
        engine.acknowledge(alarm, request.user)
    except engine.AlarmStateError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return _done(alarm)


@login_not_required
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def close(request, pk):
    alarm = _alarm(request, pk, "acknowledge")
    note = request.data.get("note", "") if hasattr(request.data, "get") else ""
    try:
        engine.close(alarm, request.user, str(note or "").strip())
    except engine.AlarmStateError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
    return _done(alarm)


@login_not_required
@api_view(["POST"])
@permission_classes([IsAuthenticated])
def open_case(request, pk):
    alarm = _alarm(request, pk, "open_case")
    try:
        engine.open_case_for_alarm(alarm, request.user)
    except LookupError as exc:
        return Response({"detail": str(exc)}, status=status.HTTP_501_NOT_IMPLEMENTED)
    except ValidationError as exc:
        return Response({"detail": exc.messages}, status=status.HTTP_400_BAD_REQUEST)
    return _done(alarm)
