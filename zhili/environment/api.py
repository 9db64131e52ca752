"""REST endpoints of the environment chapter that are not plain model collections.

``POST /environment/api/aqi/`` computes IAQI/AQI from given concentrations for either profile,
so integrators can check their own numbers against HJ 633 (issue 6).
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from zhili.environment import aqi

ALL_INDICATORS = tuple(aqi.INDICATOR_POLLUTANT)
UNITS = {ind: ("mg/m³" if ind.startswith("co") else "µg/m³") for ind in ALL_INDICATORS}


class AQIRequestSerializer(serializers.Serializer):
    profile = serializers.ChoiceField(
        choices=list(aqi.PROFILES),
        default=aqi.DEFAULT_PROFILE,
        help_text="HJ633-2026 (default) or HJ633-2012",
    )
    kind = serializers.ChoiceField(
        choices=["daily", "hourly"],
        default="daily",
        help_text="daily: 24-h means (+ O3 daily-max 8-h [and 1-h in 2012]); hourly: the real-time report",
    )

    def get_fields(self):
        fields = super().get_fields()
        for ind in ALL_INDICATORS:
            fields[ind] = serializers.DecimalField(
                max_digits=10,
                decimal_places=3,
                min_value=0,
                required=False,
                allow_null=True,
                help_text=f"{aqi.INDICATOR_LABELS[ind]} ({UNITS[ind]})",
            )
        return fields

    def validate(self, attrs):
        prof = aqi.get_profile(attrs["profile"])
        allowed = set(prof.daily_indicators if attrs["kind"] == "daily" else prof.hourly_indicators)
        if attrs["kind"] == "hourly" and prof.so2_1h_over_800_iaqi is None:
            allowed.add("so2_24h")
        errors = {}
        given = {ind: attrs[ind] for ind in ALL_INDICATORS if attrs.get(ind) is not None}
        for ind in given:
            if ind not in allowed:
                errors[ind] = [
                    gettext("Not an indicator of the %(kind)s report of %(profile)s; use: %(allowed)s.")
                    % {"kind": attrs["kind"], "profile": prof.code, "allowed": ", ".join(sorted(allowed))}
                ]
        if not given:
            errors["non_field_errors"] = [gettext("Give at least one concentration.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["values"] = given
        return attrs


class IndicatorSerializer(serializers.Serializer):
    indicator = serializers.CharField()
    pollutant = serializers.CharField()
    concentration = serializers.CharField(allow_null=True)
    used_concentration = serializers.CharField(
        allow_null=True, help_text="after the 2026 rounding (GB/T 8170)"
    )
    iaqi = serializers.IntegerField(allow_null=True)
    note = serializers.CharField(
        help_text="missing, over_800_fixed, over_800_not_computed, above_scale or empty"
    )


class AQIResponseSerializer(serializers.Serializer):
    profile = serializers.CharField()
    kind = serializers.CharField()
    aqi = serializers.IntegerField(
        allow_null=True, help_text="published AQI; null = NA (pollutant missing, AQI ≤ 100)"
    )
    computed_aqi = serializers.IntegerField(allow_null=True)
    level = serializers.IntegerField(allow_null=True)
    category = serializers.CharField(allow_null=True)
    category_label = serializers.CharField(allow_null=True)
    colour = serializers.CharField(allow_null=True)
    primary_pollutants = serializers.ListField(child=serializers.CharField())
    non_attainment_pollutants = serializers.ListField(child=serializers.CharField())
    missing = serializers.ListField(child=serializers.CharField())
    indicators = IndicatorSerializer(many=True)


class AQICalculatorView(APIView):
    """Compute IAQI and AQI from concentrations per HJ 633-2026 or HJ 633-2012.

    Concentrations in µg/m³, CO in mg/m³. Any authenticated user or API token may call it; it
    reads no stored data.
    """

    @extend_schema(
        operation_id="environment_aqi_calculate",
        summary=str(_("Compute IAQI/AQI (HJ 633)")),
        request=AQIRequestSerializer,
        responses={200: AQIResponseSerializer},
        tags=["environment"],
        examples=[
            OpenApiExample(
                "Daily, HJ 633-2026",
                value={
                    "profile": "HJ633-2026",
                    "kind": "daily",
                    "pm25_24h": 75,
                    "pm10_24h": 130,
                    "o3_8h": 120,
                },
                request_only=True,
            )
        ],
    )
    def post(self, request):
        serializer = AQIRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        compute = aqi.daily_report if data["kind"] == "daily" else aqi.hourly_report
        report = compute(data["values"], data["profile"])
        return Response(report.as_dict())
