"""Workflow API: open a case, perform a transition, read the timeline (on top of the generic
``/api/cases/cases/`` CRUD the registry gives). Same permission path as the pages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from zhili.cases import services
from zhili.cases.models import Case, CaseEvent, Channel
from zhili.core.permissions import has_action, restrict


def _errors(exc: ValidationError):
    if hasattr(exc, "message_dict"):
        return exc.message_dict
    return {"detail": exc.messages}


class ActionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    longitude = serializers.FloatField(required=False, min_value=-180, max_value=180)
    latitude = serializers.FloatField(required=False, min_value=-90, max_value=90)
    department = serializers.IntegerField(required=False)
    assignee = serializers.IntegerField(required=False)
    days = serializers.IntegerField(required=False, min_value=1, max_value=30)
    approve = serializers.BooleanField(required=False)
    target = serializers.CharField(required=False, max_length=40)


class EventSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", default=None)

    class Meta:
        model = CaseEvent
        fields = (
            "id",
            "kind",
            "from_status",
            "to_status",
            "at",
            "user",
            "longitude",
            "latitude",
            "note",
            "data",
        )


def _case(request, pk):
    case = (
        restrict(Case.objects.select_related("category", "grid"), request.user, "view").filter(pk=pk).first()
    )
    if case is None:
        raise Http404
    return case


class CaseActionView(APIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ActionSerializer

    def post(self, request, pk, name):
        from django.contrib.auth import get_user_model

        from zhili.orgs.models import Department

        case = _case(request, pk)
        serializer = ActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        params = {}
        if "department" in data:
            params["department"] = Department.objects.filter(pk=data.pop("department")).first()
            if params["department"] is None:
                return Response({"department": ["Unknown department."]}, status=status.HTTP_400_BAD_REQUEST)
        if "assignee" in data:
            params["assignee"] = (
                get_user_model().objects.filter(pk=data.pop("assignee"), is_active=True).first()
            )
        for key in ("days", "approve", "target"):
            if key in data:
                params[key] = data.pop(key)
        try:
            case = services.transition(
                case,
                name,
                request.user,
                note=data.get("note", ""),
                lon=data.get("longitude"),
                lat=data.get("latitude"),
                **params,
            )
        except PermissionDenied as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_403_FORBIDDEN)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "id": case.pk,
                "number": case.number,
                "status": case.status,
                "due_at": case.due_at,
                "sla_state": case.sla_state,
            }
        )


class TimelineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    status = serializers.CharField()
    due_at = serializers.DateTimeField(allow_null=True)
    sla_state = serializers.CharField()
    actions = serializers.ListField(child=serializers.CharField())
    events = EventSerializer(many=True)


class CaseTimelineView(APIView):
    """A case's timeline and the workflow actions the caller may perform now."""

    permission_classes = [IsAuthenticated]
    serializer_class = TimelineSerializer

    def get(self, request, pk):
        case = _case(request, pk)
        return Response(
            {
                "id": case.pk,
                "number": case.number,
                "status": case.status,
                "due_at": case.due_at,
                "sla_state": case.sla_state,
                "actions": [t.name for t in services.available_transitions(case, request.user)],
                "events": EventSerializer(case.events.select_related("user"), many=True).data,
            }
        )


class OpenCaseSerializer(serializers.Serializer):
    category = serializers.CharField(max_length=40)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    channel = serializers.ChoiceField(choices=Channel.choices, default="staff")
    location = serializers.JSONField(required=False)
    address = serializers.CharField(required=False, allow_blank=True, max_length=200)
    urgent = serializers.BooleanField(default=False)
    reporter_name = serializers.CharField(required=False, allow_blank=True, max_length=50)
    reporter_phone = serializers.CharField(required=False, allow_blank=True, max_length=20)


class OpenCaseView(APIView):
    """Open a case through ``services.open_case`` (for systems: inspections, patrol apps)."""

    permission_classes = [IsAuthenticated]
    serializer_class = OpenCaseSerializer

    def post(self, request):
        if not has_action(request.user, Case, "add"):
            return Response({"detail": "You may not register cases."}, status=status.HTTP_403_FORBIDDEN)
        serializer = OpenCaseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            case = services.open_case(user=request.user, **serializer.validated_data)
        except ValidationError as exc:
            return Response(_errors(exc), status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {"id": case.pk, "number": case.number, "status": case.status, "follow_token": case.follow_token},
            status=status.HTTP_201_CREATED,
        )
