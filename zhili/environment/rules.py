"""The "aqi_category" rule kind for the IoT rule engine (R-5.1.1).

A rule on one pollutant metric (pm25, pm10, so2, no2, co, o3) of an air station breaches when
the pollutant's real-time IAQI (HJ 633, the configured profile; PM uses the 24-h columns in
2026) of the newest reading reaches the category level ``min_level`` (default 3, 轻度污染).
"""

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhili.environment import aqi

HOURLY_INDICATOR = {
    "so2": "so2_1h",
    "no2": "no2_1h",
    "co": "co_1h",
    "o3": "o3_1h",
    "pm10": "pm10_1h",
    "pm25": "pm25_1h",
}
# HJ 633-2012 has no 1-h PM columns: its real-time report uses the 24-h table for PM.
HOURLY_INDICATOR_2012 = {**HOURLY_INDICATOR, "pm10": "pm10_24h", "pm25": "pm25_24h"}


def evaluate_aqi_category(rule, device, readings):
    from zhili.environment.analytics import profile_code
    from zhili.iot.rules import Verdict

    if not readings:
        return None
    metric = rule.metric.code
    profile = rule.params.get("profile") or profile_code()
    table = HOURLY_INDICATOR_2012 if profile == "HJ633-2012" else HOURLY_INDICATOR
    indicator = table.get(metric)
    if indicator is None:
        return None
    ts, value = readings[-1]
    if value is None or value < 0:
        return None
    result = aqi.iaqi_detail(indicator, value, profile)
    if result.iaqi is None:
        return None
    category = aqi.category_for(max(result.iaqi, 1))
    min_level = int(rule.params.get("min_level") or 3)
    message = gettext("%(metric)s IAQI %(iaqi)d (%(category)s)") % {
        "metric": aqi.POLLUTANT_LABELS.get(metric, metric),
        "iaqi": result.iaqi,
        "category": category.name_zh,
    }
    return Verdict(category.level >= min_level, float(result.iaqi), ts, message)


def register() -> None:
    from zhili.iot.rules import register_rule_kind

    register_rule_kind(
        "aqi_category",
        _("AQI category (HJ 633)"),
        evaluate_aqi_category,
        params={"min_level": (int, False), "profile": (str, False)},
    )
