"""Air quality index per HJ 633-2026 (default) and HJ 633-2012 (legacy profile).

Pure Python (plus numpy for the vectorised daily path); no Django models. Two ways in:

* :func:`iaqi`, :func:`daily_report`, :func:`hourly_report` work on single values with exact
  decimal arithmetic (``Fraction``), so a breakpoint gives exactly its IAQI and rounding up never
  suffers from binary floating point. The REST calculator uses these.
* :func:`daily_aqi_array` computes daily reports for whole arrays of hourly data (stations × days
  × 24 hours) at once. It applies the same tables with ``numpy.interp`` (the tables are continuous
  piecewise-linear functions because adjacent segments share their end points, HJ 633 §4.2) and
  a ceiling that tolerates 1e-9 of float error. Tests check that both paths agree.

Facts come from ``shared/spec/domain-facts.md`` §1–2 (tables [P], rules [P]); settings for the
items marked [U] there live in ``settings.ZHILI`` (see :func:`validity_settings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

import numpy as np
from django.utils.translation import gettext_lazy as _

IAQI_LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
POLLUTANTS = ("so2", "no2", "pm10", "pm25", "co", "o3")
POLLUTANT_LABELS = {
    "so2": "SO₂",
    "no2": "NO₂",
    "pm10": "PM₁₀",
    "pm25": "PM₂.₅",
    "co": "CO",
    "o3": "O₃",
}
#: Indicator code → pollutant. An indicator is a pollutant with its averaging period.
INDICATOR_POLLUTANT = {
    "so2_24h": "so2",
    "so2_1h": "so2",
    "no2_24h": "no2",
    "no2_1h": "no2",
    "pm10_24h": "pm10",
    "pm10_1h": "pm10",
    "co_24h": "co",
    "co_1h": "co",
    "o3_1h": "o3",
    "o3_8h": "o3",
    "pm25_24h": "pm25",
    "pm25_1h": "pm25",
}
INDICATOR_LABELS = {
    "so2_24h": _("SO2 24-hour mean"),
    "so2_1h": _("SO2 1-hour mean"),
    "no2_24h": _("NO2 24-hour mean"),
    "no2_1h": _("NO2 1-hour mean"),
    "pm10_24h": _("PM10 24-hour mean"),
    "pm10_1h": _("PM10 1-hour mean"),
    "co_24h": _("CO 24-hour mean"),
    "co_1h": _("CO 1-hour mean"),
    "o3_1h": _("O3 1-hour mean"),
    "o3_8h": _("O3 8-hour mean"),
    "pm25_24h": _("PM2.5 24-hour mean"),
    "pm25_1h": _("PM2.5 1-hour mean"),
}

# HJ 633-2012 Table 1 [P]. Concentrations in µg/m³, CO in mg/m³. Row i belongs to IAQI_LEVELS[i].
# so2_1h stops at IAQI 200 (note b) and o3_8h at IAQI 300 (note c).
_TABLES_2012 = {
    "so2_24h": (0, 50, 150, 475, 800, 1600, 2100, 2620),
    "so2_1h": (0, 150, 500, 650, 800),
    "no2_24h": (0, 40, 80, 180, 280, 565, 750, 940),
    "no2_1h": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10_24h": (0, 50, 150, 250, 350, 420, 500, 600),
    "co_24h": (0, 2, 4, 14, 24, 36, 48, 60),
    "co_1h": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3_1h": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "o3_8h": (0, 100, 160, 215, 265, 800),
    "pm25_24h": (0, 35, 75, 115, 150, 250, 350, 500),
}
# HJ 633-2026 Table 3 [P]: only the PM IAQI-100 rows changed (PM10 150→120, PM2.5 75→60).
_TABLES_2026 = {
    **_TABLES_2012,
    "pm10_24h": (0, 50, 120, 250, 350, 420, 500, 600),
    "pm25_24h": (0, 35, 60, 115, 150, 250, 350, 500),
}


@dataclass(frozen=True)
class Category:
    level: int
    name_zh: str
    label: str
    colour: str
    rgb: tuple[int, int, int]
    low: int
    high: int | None


#: HJ 633 Table 2 (2012) / Table 1 (2026) and Appendix A [P]; identical in both versions.
CATEGORIES = (
    Category(1, "优", _("Excellent"), "#00E400", (0, 228, 0), 0, 50),
    Category(2, "良", _("Good"), "#FFFF00", (255, 255, 0), 51, 100),
    Category(3, "轻度污染", _("Lightly polluted"), "#FF7E00", (255, 126, 0), 101, 150),
    Category(4, "中度污染", _("Moderately polluted"), "#FF0000", (255, 0, 0), 151, 200),
    Category(5, "重度污染", _("Heavily polluted"), "#99004C", (153, 0, 76), 201, 300),
    Category(6, "严重污染", _("Severely polluted"), "#7E0023", (126, 0, 35), 301, None),
)


def category_for(aqi: int | None) -> Category | None:
    if aqi is None:
        return None
    for cat in CATEGORIES:
        if cat.high is None or aqi <= cat.high:
            return cat
    return CATEGORIES[-1]  # pragma: no cover - the last category is open-ended


@dataclass(frozen=True)
class Profile:
    """One version of HJ 633: its tables and the rules that differ between versions."""

    code: str
    title: str
    tables: dict
    #: 2026 §4.2.2: round concentrations (GB/T 8170) before computing the IAQI.
    round_concentrations: bool
    #: What happens above 800 µg/m³: a fixed IAQI (2026) or "not computed" (2012, use the other value).
    so2_1h_over_800_iaqi: int | None
    o3_8h_over_800_iaqi: int | None
    daily_indicators: tuple
    #: pollutant → indicator whose table the real-time (hourly) report uses for that pollutant.
    hourly_indicators: tuple
    #: 2012 §3.4 non-attainment pollutants (IAQI > 100); deleted in 2026.
    reports_non_attainment: bool
    #: 2026 §4.1.1: the AQI ranges 1–500.
    min_aqi: int

    def table(self, indicator: str) -> tuple:
        table_key = {"pm10_1h": "pm10_24h", "pm25_1h": "pm25_24h"}.get(indicator, indicator)
        try:
            return self.tables[table_key]
        except KeyError:
            raise ValueError(f"{self.code} has no breakpoints for {indicator}") from None

    @property
    def indicators(self) -> tuple:
        return tuple(dict.fromkeys(self.daily_indicators + self.hourly_indicators))


HJ633_2026 = Profile(
    code="HJ633-2026",
    title="HJ 633-2026",
    tables=_TABLES_2026,
    round_concentrations=True,
    so2_1h_over_800_iaqi=200,
    o3_8h_over_800_iaqi=300,
    daily_indicators=("so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_8h"),
    # 2026 §4.2.3: 1-hour means of the six pollutants; PM uses the 24-hour breakpoint columns.
    hourly_indicators=("so2_1h", "no2_1h", "co_1h", "o3_1h", "pm10_1h", "pm25_1h"),
    reports_non_attainment=False,
    min_aqi=1,
)
HJ633_2012 = Profile(
    code="HJ633-2012",
    title="HJ 633-2012",
    tables=_TABLES_2012,
    round_concentrations=False,
    so2_1h_over_800_iaqi=None,
    o3_8h_over_800_iaqi=None,
    daily_indicators=("so2_24h", "no2_24h", "co_24h", "pm10_24h", "pm25_24h", "o3_1h", "o3_8h"),
    # 2012 §5.1.3: 1-hour values of SO2, NO2, CO, O3; the O3 8-h moving average; PM 24-h moving
    # averages (the PM 1-hour values are reported as concentrations only).
    hourly_indicators=("so2_1h", "no2_1h", "co_1h", "o3_1h", "o3_8h", "pm10_24h", "pm25_24h"),
    reports_non_attainment=True,
    min_aqi=0,
)
PROFILES = {HJ633_2026.code: HJ633_2026, HJ633_2012.code: HJ633_2012}
DEFAULT_PROFILE = HJ633_2026.code


def get_profile(profile: str | Profile | None = None) -> Profile:
    if isinstance(profile, Profile):
        return profile
    code = profile or DEFAULT_PROFILE
    try:
        return PROFILES[code]
    except KeyError:
        raise ValueError(f"unknown AQI profile {code!r}; choose one of {', '.join(PROFILES)}") from None


# ---------------------------------------------------------------------------------------------
# Single values (exact arithmetic)


def _decimal(value) -> Decimal:
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("concentration must be a finite number")
        result = Decimal(repr(value))
    else:
        try:
            result = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError(f"not a number: {value!r}") from None
    if not result.is_finite():
        raise ValueError("concentration must be a finite number")
    if result < 0:
        raise ValueError("concentration cannot be negative")
    return result


def round_concentration(indicator: str, value, profile: str | Profile | None = None) -> Decimal:
    """The concentration the IAQI is computed from: rounded per GB/T 8170 for HJ 633-2026.

    SO2, NO2, O3, PM10, PM2.5 to whole µg/m³; CO to 0.1 mg/m³ (2026 §4.2.2). GB/T 8170's rule
    ("四舍六入五成双") is round-half-even on the decimal value.
    """
    prof = get_profile(profile)
    c = _decimal(value)
    if not prof.round_concentrations:
        return c
    quantum = Decimal("0.1") if INDICATOR_POLLUTANT[indicator] == "co" else Decimal("1")
    return c.quantize(quantum, rounding=ROUND_HALF_EVEN)


@dataclass
class IndicatorResult:
    indicator: str
    concentration: Decimal | None
    #: concentration after the profile's rounding; the IAQI is computed from this
    used_concentration: Decimal | None
    iaqi: int | None
    #: why the IAQI is special or missing: "missing", "over_800_fixed", "over_800_not_computed",
    #: "above_scale" (concentration beyond the last breakpoint; IAQI held at 500)
    note: str = ""

    @property
    def pollutant(self) -> str:
        return INDICATOR_POLLUTANT[self.indicator]


def _interpolate(table: tuple, c: Fraction) -> tuple[int, bool]:
    """Ceiling of the linear interpolation, exact. Returns (iaqi, above_scale)."""
    if c >= table[-1]:
        return IAQI_LEVELS[len(table) - 1], c > table[-1]
    for i in range(1, len(table)):
        hi = table[i]
        if c <= hi:
            lo = table[i - 1]
            i_lo, i_hi = IAQI_LEVELS[i - 1], IAQI_LEVELS[i]
            value = Fraction(i_hi - i_lo, hi - lo) * (c - lo) + i_lo
            return math.ceil(value), False
    raise AssertionError("unreachable")  # pragma: no cover


def iaqi_detail(indicator: str, value, profile: str | Profile | None = None) -> IndicatorResult:
    """IAQI of one indicator, with the >800 µg/m³ rules of the profile.

    In HJ 633-2012 an SO2 1-h value or O3 8-h value above 800 µg/m³ gets no IAQI (the report then
    uses the SO2 24-h / O3 1-h IAQI, see :func:`hourly_report`); in 2026 they are fixed at 200/300.
    """
    prof = get_profile(profile)
    if value is None:
        return IndicatorResult(indicator, None, None, None, "missing")
    table = prof.table(indicator)
    raw = _decimal(value)
    used = round_concentration(indicator, raw, prof)
    if indicator == "so2_1h" and used > 800:
        fixed = prof.so2_1h_over_800_iaqi
        return IndicatorResult(
            indicator, raw, used, fixed, "over_800_fixed" if fixed else "over_800_not_computed"
        )
    if indicator == "o3_8h" and used > 800:
        fixed = prof.o3_8h_over_800_iaqi
        return IndicatorResult(
            indicator, raw, used, fixed, "over_800_fixed" if fixed else "over_800_not_computed"
        )
    result, above = _interpolate(table, Fraction(used))
    return IndicatorResult(indicator, raw, used, result, "above_scale" if above else "")


def iaqi(indicator: str, value, profile: str | Profile | None = None) -> int | None:
    return iaqi_detail(indicator, value, profile).iaqi


@dataclass
class AQIReport:
    profile: str
    kind: str  # "daily" | "hourly"
    indicators: dict[str, IndicatorResult]
    #: AQI from the available indicators, before the publishing rule for missing pollutants
    computed_aqi: int | None
    #: the AQI as published: None ("NA") when pollutants are missing and computed_aqi ≤ 100
    aqi: int | None
    category: Category | None
    primary_pollutants: list[str] = field(default_factory=list)
    non_attainment: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        cat = self.category
        return {
            "profile": self.profile,
            "kind": self.kind,
            "aqi": self.aqi,
            "computed_aqi": self.computed_aqi,
            "level": cat.level if cat else None,
            "category": cat.name_zh if cat else None,
            "category_label": str(cat.label) if cat else None,
            "colour": cat.colour if cat else None,
            "primary_pollutants": self.primary_pollutants,
            "non_attainment_pollutants": self.non_attainment,
            "missing": self.missing,
            "indicators": [
                {
                    "indicator": r.indicator,
                    "pollutant": r.pollutant,
                    "concentration": None if r.concentration is None else str(r.concentration),
                    "used_concentration": None if r.used_concentration is None else str(r.used_concentration),
                    "iaqi": r.iaqi,
                    "note": r.note,
                }
                for r in self.indicators.values()
            ],
        }


def _report(prof: Profile, kind: str, results: dict[str, IndicatorResult]) -> AQIReport:
    values = [r.iaqi for r in results.values() if r.iaqi is not None]
    # A pollutant is missing when none of its indicators has an IAQI.
    have = {r.pollutant for r in results.values() if r.iaqi is not None}
    missing = [p for p in dict.fromkeys(r.pollutant for r in results.values()) if p not in have]
    computed = max(values) if values else None
    if computed is not None:
        computed = max(computed, prof.min_aqi)
    # 2026 §5: with a missing pollutant, publish the AQI only if it is above 100; else "NA".
    published = computed if (not missing or (computed is not None and computed > 100)) else None
    primary: list[str] = []
    if computed is not None and computed > 50:
        primary = list(dict.fromkeys(r.indicator for r in results.values() if r.iaqi == computed))
    non_attainment: list[str] = []
    if prof.reports_non_attainment:
        non_attainment = [r.indicator for r in results.values() if r.iaqi is not None and r.iaqi > 100]
    return AQIReport(
        profile=prof.code,
        kind=kind,
        indicators=results,
        computed_aqi=computed,
        aqi=published,
        category=category_for(published),
        primary_pollutants=primary,
        non_attainment=non_attainment,
        missing=missing,
    )


def daily_report(values: dict, profile: str | Profile | None = None) -> AQIReport:
    """Daily AQI from the day's indicator values (keys: the profile's ``daily_indicators``).

    2026: 24-h means of SO2, NO2, CO, PM10, PM2.5 and the O3 daily-max 8-h mean. 2012 adds the
    O3 daily-max 1-h value; an O3 8-h value above 800 then gets no IAQI and O3 is judged by 1-h.
    """
    prof = get_profile(profile)
    unknown = set(values) - set(prof.daily_indicators)
    if unknown:
        raise ValueError(f"not daily indicators of {prof.code}: {', '.join(sorted(unknown))}")
    results = {ind: iaqi_detail(ind, values.get(ind), prof) for ind in prof.daily_indicators}
    return _report(prof, "daily", results)


def hourly_report(values: dict, profile: str | Profile | None = None) -> AQIReport:
    """Real-time (hourly) AQI from 1-h values (keys: the profile's ``hourly_indicators``).

    For 2012, ``so2_24h`` may also be given: it replaces an SO2 1-h value above 800 µg/m³
    (HJ 633-2012 Table 1 note). Without it such an SO2 value has no IAQI.
    """
    prof = get_profile(profile)
    allowed = set(prof.hourly_indicators) | ({"so2_24h"} if prof.so2_1h_over_800_iaqi is None else set())
    unknown = set(values) - allowed
    if unknown:
        raise ValueError(f"not real-time indicators of {prof.code}: {', '.join(sorted(unknown))}")
    results = {ind: iaqi_detail(ind, values.get(ind), prof) for ind in prof.hourly_indicators}
    so2 = results["so2_1h"]
    if so2.note == "over_800_not_computed" and values.get("so2_24h") is not None:
        results["so2_24h"] = iaqi_detail("so2_24h", values["so2_24h"], prof)
    return _report(prof, "hourly", results)


# ---------------------------------------------------------------------------------------------
# Data validity (GB 3095-2026 Table 4 [P]) and statistics (HJ 663 [S])


def validity_settings() -> dict:
    """Validity thresholds. [P] values are fixed defaults; the [U] ones are settings in ZHILI."""
    defaults = {
        "DAILY_MIN_HOURS": 20,  # GB 3095-2026 Table 4 [P]
        "EIGHT_HOUR_MIN_HOURS": 6,  # [P]
        "ANNUAL_MIN_DAYS": 324,  # [P]
        "MONTH_MIN_DAYS": 27,  # [P]
        "FEBRUARY_MIN_DAYS": 25,  # [P]
        # HJ 663-2013: a daily-max 8-h value needs ≥ 14 valid 8-h means (8:00–24:00) unless it
        # already exceeds the limit. Not restated in domain-facts for 2026: a setting [U].
        "O3_8H_MIN_WINDOWS": 14,
        "O3_8H_EXCEEDANCE_LIMIT": 160,
    }
    try:
        from django.conf import settings

        defaults.update(getattr(settings, "ZHILI", {}).get("AQI_VALIDITY", {}))
    except Exception:  # pragma: no cover - settings not configured (plain library use)
        pass
    return defaults


def daily_mean(hourly, min_hours: int | None = None) -> float | None:
    """Natural-day mean of hourly values (None = missing); None unless ≥ 20 values are valid."""
    need = validity_settings()["DAILY_MIN_HOURS"] if min_hours is None else min_hours
    vals = [v for v in hourly if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if len(vals) < need:
        return None
    return sum(vals) / len(vals)


def eight_hour_means(hourly) -> list[float | None]:
    """8-h means of windows starting at hour 0…len-8 of the day; each needs ≥ 6 of its 8 values."""
    need = validity_settings()["EIGHT_HOUR_MIN_HOURS"]
    out = []
    for start in range(len(hourly) - 7):
        window = [v for v in hourly[start : start + 8] if v is not None and not _isnan(v)]
        out.append(sum(window) / len(window) if len(window) >= need else None)
    return out


def daily_max_8h(hourly) -> float | None:
    """O3 daily-max 8-h mean of one natural day (24 hourly values, index 0 = 00:00–01:00).

    The 17 windows ending at 08:00 … 24:00 lie inside the day. The value is valid with ≥ 14 valid
    windows, or with fewer when it already exceeds the limit (see :func:`validity_settings`).
    """
    cfg = validity_settings()
    means = [m for m in eight_hour_means(list(hourly)[:24]) if m is not None]
    if not means:
        return None
    best = max(means)
    if len(means) >= cfg["O3_8H_MIN_WINDOWS"] or best > cfg["O3_8H_EXCEEDANCE_LIMIT"]:
        return best
    return None


def _isnan(v) -> bool:
    return isinstance(v, float) and math.isnan(v)


def hj663_percentile(values, p: float) -> float | None:
    """Percentile by the HJ 663 method: k = 1 + (n−1)·p%, linear between X(s) and X(s+1).

    Equals Excel PERCENTILE.INC and numpy's default "linear" method (domain-facts §2.2).
    """
    data = sorted(v for v in values if v is not None and not _isnan(v))
    if not data:
        return None
    if not 0 <= p <= 100:
        raise ValueError("percentile must be between 0 and 100")
    k = 1 + (len(data) - 1) * p / 100
    s = int(k)
    if s >= len(data):
        return float(data[-1])
    return data[s - 1] + (data[s] - data[s - 1]) * (k - s)


def annual_valid(daily_counts_by_month: dict[int, int]) -> bool:
    """Whether a year of daily values supports annual statistics (GB 3095-2026 Table 4).

    ``daily_counts_by_month`` maps month (1–12) to the number of valid daily values.
    """
    cfg = validity_settings()
    total = sum(daily_counts_by_month.get(m, 0) for m in range(1, 13))
    if total < cfg["ANNUAL_MIN_DAYS"]:
        return False
    for month in range(1, 13):
        need = cfg["FEBRUARY_MIN_DAYS"] if month == 2 else cfg["MONTH_MIN_DAYS"]
        if daily_counts_by_month.get(month, 0) < need:
            return False
    return True


def month_valid(month: int, valid_days: int) -> bool:
    cfg = validity_settings()
    return valid_days >= (cfg["FEBRUARY_MIN_DAYS"] if month == 2 else cfg["MONTH_MIN_DAYS"])


#: HJ 663 annual evaluation items [S]: pollutant → (statistic, percentile or None for the mean).
ANNUAL_STATISTICS = {
    "so2": ("annual_mean", None),
    "no2": ("annual_mean", None),
    "pm10": ("annual_mean", None),
    "pm25": ("annual_mean", None),
    "co": ("p95_daily_mean", 95),
    "o3": ("p90_daily_max_8h", 90),
}
#: Class-2 limits used by the composite index (GB 3095-2026 transitional 二级, the limits in force
#: until 2030): annual means, CO 24-h, O3 8-h. domain-facts §2.1 [P]; formula §2.2 [S].
COMPOSITE_LIMITS = {"so2": 60, "no2": 40, "pm10": 60, "pm25": 30, "co": 4, "o3": 160}


def annual_statistics(daily: dict[str, list]) -> dict[str, float | None]:
    """HJ 663 statistics from a year of daily values.

    ``daily``: pollutant → list of daily values (24-h means; for "o3" the daily-max 8-h means),
    None for invalid days.
    """
    out: dict[str, float | None] = {}
    for pollutant, (_name, pct) in ANNUAL_STATISTICS.items():
        vals = [v for v in daily.get(pollutant, []) if v is not None and not _isnan(v)]
        if not vals:
            out[pollutant] = None
        elif pct is None:
            out[pollutant] = sum(vals) / len(vals)
        else:
            out[pollutant] = hj663_percentile(vals, pct)
    return out


def composite_index(stats: dict[str, float | None], limits: dict | None = None) -> float | None:
    """综合指数: Σ statistic ÷ Class-2 limit over the six pollutants (None if any is missing)."""
    limits = limits or COMPOSITE_LIMITS
    total = 0.0
    for pollutant, limit in limits.items():
        value = stats.get(pollutant)
        if value is None:
            return None
        total += value / limit
    return total


# ---------------------------------------------------------------------------------------------
# Vectorised daily AQI


def _ceil_array(values: np.ndarray) -> np.ndarray:
    # Interpolation in float can land 1e-13 above an exact integer; do not round that up.
    return np.ceil(values - 1e-9)


def _round_half_even(values: np.ndarray, decimals: int) -> np.ndarray:
    return np.round(values, decimals)  # numpy rounds half to even, as GB/T 8170


def iaqi_array(indicator: str, conc: np.ndarray, profile: str | Profile | None = None) -> np.ndarray:
    """IAQI for an array of concentrations (NaN = missing → NaN). Same rules as :func:`iaqi`."""
    prof = get_profile(profile)
    table = np.asarray(prof.table(indicator), dtype=float)
    levels = np.asarray(IAQI_LEVELS[: len(table)], dtype=float)
    c = np.asarray(conc, dtype=float)
    if prof.round_concentrations:
        c = _round_half_even(c, 1 if INDICATOR_POLLUTANT[indicator] == "co" else 0)
    out = _ceil_array(np.interp(c, table, levels))
    out[np.isnan(c)] = np.nan
    if indicator in ("so2_1h", "o3_8h"):
        fixed = prof.so2_1h_over_800_iaqi if indicator == "so2_1h" else prof.o3_8h_over_800_iaqi
        out = np.where(c > 800, np.nan if fixed is None else float(fixed), out)
    return out


@dataclass
class DailyArrays:
    """Result of :func:`daily_aqi_array`; every array has the input's leading shape."""

    profile: str
    concentrations: dict[str, np.ndarray]  # indicator → daily value (NaN = invalid)
    iaqi: dict[str, np.ndarray]  # indicator → IAQI (NaN = none)
    computed_aqi: np.ndarray  # NaN where no indicator is valid
    aqi: np.ndarray  # published AQI, NaN = "NA"
    level: np.ndarray  # category level 1–6, 0 = NA

    def primary_mask(self, indicator: str) -> np.ndarray:
        """True where the indicator is (one of) the primary pollutant(s)."""
        return (self.iaqi[indicator] == self.computed_aqi) & (self.computed_aqi > 50)


def daily_aqi_array(hourly: dict[str, np.ndarray], profile: str | Profile | None = None) -> DailyArrays:
    """Daily reports for arrays of hourly values.

    ``hourly``: pollutant code (so2, no2, co, pm10, pm25, o3) → float array of shape (..., 24),
    hour 0 = 00:00–01:00 of the natural day, NaN for a missing hour. Validity per GB 3095-2026
    Table 4: daily mean needs ≥ 20 hours; O3 8-h mean ≥ 6 of 8 hours; daily-max 8-h needs
    ``O3_8H_MIN_WINDOWS`` valid windows unless above the limit. A missing pollutant makes the
    published AQI NA unless the computed AQI exceeds 100 (2026 §5).
    """
    prof = get_profile(profile)
    cfg = validity_settings()
    shape = None
    concentrations: dict[str, np.ndarray] = {}
    for pollutant in POLLUTANTS:
        arr = hourly.get(pollutant)
        if arr is None:
            continue
        arr = np.asarray(arr, dtype=float)
        if arr.shape[-1] != 24:
            raise ValueError("hourly arrays need 24 values per day in the last axis")
        shape = arr.shape[:-1]
        # Hour-major copy (24, n): sums over hours become contiguous vector adds.
        hours = np.ascontiguousarray(arr.reshape(-1, 24).T)
        valid = ~np.isnan(hours)
        filled = np.where(valid, hours, 0.0)
        validf = valid.astype(float)
        count = validf.sum(axis=0)
        if pollutant != "o3":
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = filled.sum(axis=0) / count
            mean[count < cfg["DAILY_MIN_HOURS"]] = np.nan
            concentrations[f"{pollutant}_24h"] = mean.reshape(shape)
            continue
        # The 17 eight-hour windows inside the day (starting at hours 0…16), as running sums.
        wsum = filled[:8].sum(axis=0)
        wcnt = validf[:8].sum(axis=0)
        need = cfg["EIGHT_HOUR_MIN_HOURS"]
        best = np.full(wsum.shape, -np.inf)
        nwin = np.zeros(wsum.shape)
        for start in range(17):
            if start:
                wsum += filled[start + 7] - filled[start - 1]
                wcnt += validf[start + 7] - validf[start - 1]
            ok = wcnt >= need
            nwin += ok
            with np.errstate(invalid="ignore", divide="ignore"):
                np.maximum(best, np.where(ok, wsum / wcnt, -np.inf), out=best)
        ok = (nwin >= cfg["O3_8H_MIN_WINDOWS"]) | (best > cfg["O3_8H_EXCEEDANCE_LIMIT"])
        best[~ok | (nwin == 0)] = np.nan
        best = best.reshape(shape)
        concentrations["o3_8h"] = best
        if "o3_1h" in prof.daily_indicators:
            with np.errstate(invalid="ignore"):
                peak = np.max(np.where(valid, hours, -np.inf), axis=0)
            peak[count < cfg["DAILY_MIN_HOURS"]] = np.nan
            concentrations["o3_1h"] = peak.reshape(shape)
    if shape is None:
        raise ValueError("no pollutant given")
    iaqis: dict[str, np.ndarray] = {}
    for ind in prof.daily_indicators:
        conc = concentrations.get(ind)
        iaqis[ind] = np.full(shape, np.nan) if conc is None else iaqi_array(ind, conc, prof)
    stack = np.stack([iaqis[ind] for ind in prof.daily_indicators])
    any_valid = ~np.isnan(stack).all(axis=0)
    with np.errstate(invalid="ignore"):
        computed = np.where(any_valid, np.nanmax(np.where(np.isnan(stack), -1.0, stack), axis=0), np.nan)
    computed = np.where(any_valid, np.maximum(computed, prof.min_aqi), np.nan)
    pollutant_valid = []
    for pollutant in POLLUTANTS:
        inds = [i for i in prof.daily_indicators if INDICATOR_POLLUTANT[i] == pollutant]
        pollutant_valid.append(np.logical_or.reduce([~np.isnan(iaqis[i]) for i in inds]))
    complete = np.logical_and.reduce(pollutant_valid)
    aqi = np.where(complete | (computed > 100), computed, np.nan)
    bounds = np.array([50, 100, 150, 200, 300])
    level = np.where(np.isnan(aqi), 0, np.searchsorted(bounds, np.nan_to_num(aqi), side="left") + 1)
    return DailyArrays(prof.code, concentrations, iaqis, computed, aqi, level.astype(np.int8))
