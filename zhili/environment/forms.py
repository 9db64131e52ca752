"""The AQI calculator form (the page twin of the REST calculator)."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhili.environment import aqi


class CalculatorForm(forms.Form):
    profile = forms.ChoiceField(
        label=_("Standard"),
        choices=[(code, p.title) for code, p in aqi.PROFILES.items()],
        initial=aqi.DEFAULT_PROFILE,
    )
    kind = forms.ChoiceField(
        label=_("Report"),
        choices=[("daily", _("Daily report")), ("hourly", _("Real-time (hourly) report"))],
        initial="daily",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for ind in aqi.INDICATOR_POLLUTANT:
            unit = "mg/m³" if ind.startswith("co") else "µg/m³"
            self.fields[ind] = forms.DecimalField(
                label=f"{aqi.INDICATOR_LABELS[ind]} ({unit})",
                required=False,
                min_value=0,
                max_digits=10,
                decimal_places=3,
            )

    def indicator_fields(self):
        return [self[ind] for ind in aqi.INDICATOR_POLLUTANT]

    def clean(self):
        data = super().clean()
        prof = aqi.get_profile(data.get("profile") or aqi.DEFAULT_PROFILE)
        kind = data.get("kind") or "daily"
        allowed = set(prof.daily_indicators if kind == "daily" else prof.hourly_indicators)
        if kind == "hourly" and prof.so2_1h_over_800_iaqi is None:
            allowed.add("so2_24h")
        given = {ind: data[ind] for ind in aqi.INDICATOR_POLLUTANT if data.get(ind) is not None}
        for ind in given:
            if ind not in allowed:
                self.add_error(ind, gettext("Not used by this report of this standard."))
        if not given:
            raise forms.ValidationError(gettext("Give at least one concentration."))
        data["values"] = given
        return data

    def report(self):
        data = self.cleaned_data
        compute = aqi.daily_report if data["kind"] == "daily" else aqi.hourly_report
        return compute(data["values"], data["profile"])
