"""AQI engine against the tables of HJ 633-2012 and HJ 633-2026 (typed in here from
shared/spec/domain-facts.md §1.1, independently of the engine's own copy)."""

import math
from fractions import Fraction

import numpy as np
import pytest

from zhili.environment import aqi

LEVELS = (0, 50, 100, 150, 200, 300, 400, 500)
STANDARD_2012 = {
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
STANDARD_2026 = dict(
    STANDARD_2012,
    pm10_24h=(0, 50, 120, 250, 350, 420, 500, 600),
    pm25_24h=(0, 35, 60, 115, 150, 250, 350, 500),
)
STANDARDS = {"HJ633-2012": STANDARD_2012, "HJ633-2026": STANDARD_2026}


def expected(table, c):
    """HJ 633 §4.2: linear between the bracketing rows, shared segment ends, ceiling."""
    c = Fraction(c)
    for i in range(1, len(table)):
        if c <= table[i]:
            lo, hi = table[i - 1], table[i]
            return math.ceil(Fraction(LEVELS[i] - LEVELS[i - 1], hi - lo) * (c - lo) + LEVELS[i - 1])
    return LEVELS[len(table) - 1]


def breakpoint_cases():
    for profile, tables in STANDARDS.items():
        for indicator, table in tables.items():
            for i, bp in enumerate(table):
                yield profile, indicator, i, bp


@pytest.mark.req("R-5.1.2", "R-5.1.3")
@pytest.mark.parametrize(("profile", "indicator", "row", "bp"), list(breakpoint_cases()))
def test_every_breakpoint_and_its_neighbours(profile, indicator, row, bp):
    table = STANDARDS[profile][indicator]
    # exactly at the breakpoint: exactly its IAQI (segments share their ends, no +1 offset)
    assert aqi.iaqi(indicator, bp, profile) == LEVELS[row]
    co = indicator.startswith("co")
    step = Fraction(1, 10) if co else Fraction(1)  # the 2026 rounding unit
    tiny = Fraction(1, 100) if co else Fraction(1, 10)
    if profile == "HJ633-2026":
        # values that round back to the breakpoint give the breakpoint's IAQI (round before IAQI)
        for c in (bp - Fraction(4, 10) * step, bp + Fraction(4, 10) * step):
            if c >= 0 and not (indicator in ("so2_1h", "o3_8h") and c > 800):
                assert aqi.iaqi(indicator, str(float(c)), profile) == LEVELS[row], c
        neighbours = (bp - step, bp + step)
    else:
        # no concentration rounding in 2012: a hair above the breakpoint is already the next integer
        neighbours = (bp - tiny, bp + tiny)
    below, above = neighbours
    if below >= 0:
        assert aqi.iaqi(indicator, str(float(below)), profile) == expected(table, below)
        assert aqi.iaqi(indicator, str(float(below)), profile) <= LEVELS[row]
    if row < len(table) - 1:
        got = aqi.iaqi(indicator, str(float(above)), profile)
        assert got == expected(table, above)
        assert got > LEVELS[row]


@pytest.mark.req("R-5.1.2")
@pytest.mark.parametrize(
    ("indicator", "conc", "iaqi"),
    [
        # domain-facts §1.7: HJ 633-2012 values where python-aqi deviates
        ("pm25_24h", "35.5", 51),
        ("pm25_24h", "40", 57),
        ("pm25_24h", "75.5", 101),
        ("co_24h", "0.8", 20),
        ("co_24h", "1.5", 38),
        ("co_24h", "3.9", 98),
    ],
)
def test_known_2012_values(indicator, conc, iaqi):
    assert aqi.iaqi(indicator, conc, "HJ633-2012") == iaqi


@pytest.mark.req("R-5.1.2")
def test_2026_rounds_concentrations_half_even_before_iaqi():
    # 35.5 → 36 (half to even), 36.5 → 36, 34.5 → 34
    assert aqi.round_concentration("pm25_24h", "35.5") == 36
    assert aqi.round_concentration("pm25_24h", "36.5") == 36
    assert aqi.iaqi("pm25_24h", "35.5") == aqi.iaqi("pm25_24h", 36) == 52
    assert aqi.iaqi("pm25_24h", "34.4") == math.ceil(Fraction(50 * 34, 35))
    # CO to one decimal: 2.05 → 2.0 (even), 2.15 → 2.2
    assert aqi.round_concentration("co_24h", "2.05") == Fraction(2)
    assert str(aqi.round_concentration("co_24h", "2.15")) == "2.2"
    assert aqi.iaqi("co_24h", "2.05") == 50
    # 2012 keeps the value as given
    assert aqi.iaqi("co_24h", "2.05", "HJ633-2012") == 52


def test_34_5_rounds_to_34():
    assert aqi.round_concentration("pm25_24h", "34.5") == 34
    assert aqi.iaqi("pm25_24h", "34.5") == math.ceil(Fraction(50 * 34, 35)) == 49


@pytest.mark.req("R-5.1.3")
def test_so2_1h_over_800_rules():
    # 2026: fixed at 200
    r = aqi.hourly_report({"so2_1h": 900}, "HJ633-2026")
    assert r.indicators["so2_1h"].iaqi == 200
    assert r.indicators["so2_1h"].note == "over_800_fixed"
    # 800 itself is still on the table; 800.4 rounds to 800 in 2026
    assert aqi.iaqi("so2_1h", 800) == 200
    assert aqi.iaqi("so2_1h", "800.4") == 200
    # 2012: not computed; the 24-h value's IAQI is reported instead
    r = aqi.hourly_report({"so2_1h": 900, "so2_24h": 500}, "HJ633-2012")
    assert r.indicators["so2_1h"].iaqi is None
    assert r.indicators["so2_1h"].note == "over_800_not_computed"
    assert r.indicators["so2_24h"].iaqi == expected(STANDARD_2012["so2_24h"], 500) == 154
    assert r.computed_aqi == 154
    assert r.primary_pollutants == ["so2_24h"]
    # 2012 without a 24-h value: SO2 is missing
    r = aqi.hourly_report({"so2_1h": 900}, "HJ633-2012")
    assert "so2" in r.missing
    # 2026 does not accept the 24-h substitute
    with pytest.raises(ValueError, match="so2_24h"):
        aqi.hourly_report({"so2_1h": 900, "so2_24h": 500}, "HJ633-2026")


@pytest.mark.req("R-5.1.2")
def test_o3_8h_over_800_rules():
    assert aqi.iaqi("o3_8h", 801) == 300
    assert aqi.iaqi("o3_8h", 800) == 300
    assert aqi.iaqi("o3_8h", 801, "HJ633-2012") is None
    full = {"so2_24h": 10, "no2_24h": 10, "co_24h": 0.5, "pm10_24h": 20, "pm25_24h": 10}
    r = aqi.daily_report({**full, "o3_8h": 900, "o3_1h": 1000}, "HJ633-2012")
    assert r.indicators["o3_8h"].iaqi is None
    assert r.computed_aqi == r.indicators["o3_1h"].iaqi == 400
    assert r.primary_pollutants == ["o3_1h"]
    assert r.missing == []
    r = aqi.daily_report({**full, "o3_8h": 900}, "HJ633-2026")
    assert r.aqi == 300 and r.category.level == 5


def test_above_the_last_breakpoint_is_held_at_500():
    d = aqi.iaqi_detail("pm25_24h", 600)
    assert d.iaqi == 500 and d.note == "above_scale"


@pytest.mark.req("R-5.1.2")
def test_primary_pollutants_with_ties_and_only_above_50():
    r = aqi.daily_report(
        {"so2_24h": 5, "no2_24h": 80, "co_24h": 0.2, "pm10_24h": 120, "pm25_24h": 60, "o3_8h": 160}
    )
    assert r.aqi == 100
    assert sorted(r.primary_pollutants) == ["no2_24h", "o3_8h", "pm10_24h", "pm25_24h"]
    r = aqi.daily_report(
        {"so2_24h": 5, "no2_24h": 40, "co_24h": 0.2, "pm10_24h": 50, "pm25_24h": 35, "o3_8h": 100}
    )
    assert r.aqi == 50
    assert r.primary_pollutants == []  # AQI ≤ 50: no primary pollutant


def test_non_attainment_only_in_2012():
    vals = {"so2_24h": 5, "no2_24h": 90, "co_24h": 0.2, "pm10_24h": 160, "pm25_24h": 30, "o3_8h": 50}
    r2012 = aqi.daily_report({**vals, "o3_1h": 60}, "HJ633-2012")
    assert sorted(r2012.non_attainment) == ["no2_24h", "pm10_24h"]
    assert aqi.daily_report(vals).non_attainment == []


@pytest.mark.req("R-5.1.3")
@pytest.mark.parametrize(
    ("value", "level", "name", "colour"),
    [
        (1, 1, "优", "#00E400"),
        (50, 1, "优", "#00E400"),
        (51, 2, "良", "#FFFF00"),
        (100, 2, "良", "#FFFF00"),
        (101, 3, "轻度污染", "#FF7E00"),
        (150, 3, "轻度污染", "#FF7E00"),
        (151, 4, "中度污染", "#FF0000"),
        (200, 4, "中度污染", "#FF0000"),
        (201, 5, "重度污染", "#99004C"),
        (300, 5, "重度污染", "#99004C"),
        (301, 6, "严重污染", "#7E0023"),
        (500, 6, "严重污染", "#7E0023"),
    ],
)
def test_categories_and_official_colours(value, level, name, colour):
    cat = aqi.category_for(value)
    assert (cat.level, cat.name_zh, cat.colour) == (level, name, colour)


def test_2026_aqi_is_at_least_1():
    r = aqi.daily_report({"so2_24h": 0, "no2_24h": 0, "co_24h": 0, "pm10_24h": 0, "pm25_24h": 0, "o3_8h": 0})
    assert r.aqi == 1
    r = aqi.daily_report(
        {"so2_24h": 0, "no2_24h": 0, "co_24h": 0, "pm10_24h": 0, "pm25_24h": 0, "o3_8h": 0, "o3_1h": 0},
        "HJ633-2012",
    )
    assert r.aqi == 0


@pytest.mark.req("R-5.1.2")
def test_missing_pollutant_na_rule():
    # PM2.5 missing, others give AQI 80 → published as NA, IAQIs still there
    r = aqi.daily_report({"so2_24h": 5, "no2_24h": 60, "co_24h": 0.2, "pm10_24h": 50, "o3_8h": 50})
    assert r.missing == ["pm25"]
    assert r.computed_aqi == 75
    assert r.aqi is None and r.category is None
    assert r.indicators["no2_24h"].iaqi == 75
    # ... but an AQI above 100 is published even with a pollutant missing
    r = aqi.daily_report({"so2_24h": 5, "no2_24h": 100, "co_24h": 0.2, "pm10_24h": 50, "o3_8h": 50})
    assert r.aqi == r.computed_aqi == 110
    assert r.primary_pollutants == ["no2_24h"]


@pytest.mark.req("R-5.1.3")
def test_2026_hourly_uses_24h_pm_columns_and_1h_for_others():
    r = aqi.hourly_report(
        {"so2_1h": 150, "no2_1h": 100, "co_1h": 5, "o3_1h": 160, "pm10_1h": 120, "pm25_1h": 60}
    )
    assert r.indicators["pm10_1h"].iaqi == 100  # 2026 PM10 column: 120 → 100
    assert r.indicators["pm25_1h"].iaqi == 100
    assert r.indicators["so2_1h"].iaqi == 50
    assert r.aqi == 100


def test_bad_input_is_a_value_error():
    for bad in ("-1", "abc", float("nan"), float("inf")):
        with pytest.raises(ValueError, match="negative|number|finite"):
            aqi.iaqi("pm25_24h", bad)
    with pytest.raises(ValueError, match="profile"):
        aqi.iaqi("pm25_24h", 1, "HJ633-1999")
    with pytest.raises(ValueError, match="o3_1h"):
        aqi.daily_report({"o3_1h": 5})  # not a 2026 daily indicator


# --- validity (GB 3095-2026 Table 4) ------------------------------------------------------------


@pytest.mark.req("R-5.1.2")
def test_daily_mean_needs_20_hours():
    assert aqi.daily_mean([10.0] * 20 + [None] * 4) == 10.0
    assert aqi.daily_mean([10.0] * 19 + [None] * 5) is None


def test_eight_hour_mean_needs_6_of_8():
    hours = [10.0] * 6 + [None] * 2 + [20.0] * 16
    means = aqi.eight_hour_means(hours)
    assert len(means) == 17
    assert means[0] == 10.0
    hours[5] = None
    assert aqi.eight_hour_means(hours)[0] is None


@pytest.mark.req("R-5.1.2")
def test_daily_max_8h_uses_windows_inside_the_day():
    hours = [50.0] * 24
    hours[16:24] = [200.0] * 8  # window 16–23 is the last one inside the day
    assert aqi.daily_max_8h(hours) == 200.0
    # fewer than 14 valid windows and no exceedance: invalid
    sparse = [None] * 10 + [50.0] * 14
    assert aqi.daily_max_8h(sparse) is None
    # ... unless the value exceeds the limit
    sparse = [None] * 10 + [200.0] * 14
    assert aqi.daily_max_8h(sparse) == 200.0


@pytest.mark.req("R-5.1.4")
def test_annual_validity_324_days_and_27_per_month():
    full = dict.fromkeys(range(1, 13), 30)
    full[2] = 25
    assert sum(full.values()) >= 324
    assert aqi.annual_valid(full)
    assert not aqi.annual_valid({**full, 3: 26})
    assert not aqi.annual_valid({**full, 2: 24})
    thin = dict.fromkeys(range(1, 13), 27)  # 324 days exactly
    assert aqi.annual_valid(thin)
    assert not aqi.annual_valid({**thin, 1: 26, 5: 28})  # 324 days but January short
    assert not aqi.annual_valid(dict.fromkeys(range(1, 12), 28) | {12: 0})


@pytest.mark.req("R-5.1.4")
def test_hj663_percentile_method():
    assert aqi.hj663_percentile([2, 3, 4, 4, 5, 8], 90) == pytest.approx(6.5)
    data = np.random.default_rng(3).gamma(2, 30, 365)
    for p in (90, 95, 98):
        assert aqi.hj663_percentile(list(data), p) == pytest.approx(np.percentile(data, p))
    assert aqi.hj663_percentile([7], 95) == 7
    assert aqi.hj663_percentile([], 95) is None


@pytest.mark.req("R-5.1.4")
def test_annual_statistics_and_composite_index():
    days = 365
    daily = {
        "so2": [6.0] * days,
        "no2": [20.0] * days,
        "pm10": [60.0] * days,
        "pm25": [30.0] * days,
        "co": [float(i % 10) / 10 for i in range(days)],
        "o3": [float(i) for i in range(days)],
    }
    stats = aqi.annual_statistics(daily)
    assert stats["pm25"] == 30.0
    assert stats["co"] == pytest.approx(np.percentile(daily["co"], 95))
    assert stats["o3"] == pytest.approx(1 + 364 * 0.9 - 1)  # k = 1 + 364·0.9 over 0..364
    ci = aqi.composite_index(stats)
    assert ci == pytest.approx(6 / 60 + 20 / 40 + 60 / 60 + 30 / 30 + stats["co"] / 4 + stats["o3"] / 160)


# --- vectorised path ----------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["HJ633-2012", "HJ633-2026"])
def test_iaqi_array_agrees_with_exact_path(profile):
    rng = np.random.default_rng(7)
    for indicator, table in STANDARDS[profile].items():
        if indicator in ("so2_1h",):
            top = 1000
        else:
            top = table[-1] * 1.1
        values = np.concatenate([rng.uniform(0, top, 400), np.asarray(table, float)])
        if indicator.startswith("co"):
            values = np.concatenate([values, np.round(rng.uniform(0, top, 200), 2)])
        got = aqi.iaqi_array(indicator, values, profile)
        for v, g in zip(values, got, strict=True):
            want = aqi.iaqi(indicator, float(v), profile)
            assert (np.isnan(g) and want is None) or g == want, (indicator, v, g, want)


@pytest.mark.req("R-5.1.2")
@pytest.mark.parametrize("profile", ["HJ633-2012", "HJ633-2026"])
def test_daily_aqi_array_matches_single_day_reports(profile):
    rng = np.random.default_rng(11)
    shape = (4, 30, 24)
    hourly = {
        "so2": rng.gamma(2, 8, shape),
        "no2": rng.gamma(3, 12, shape),
        "co": rng.gamma(3, 0.25, shape),
        "pm10": rng.gamma(3, 25, shape),
        "pm25": rng.gamma(3, 15, shape),
        "o3": rng.gamma(4, 25, shape),
    }
    # holes: some days fail validity
    for arr in hourly.values():
        mask = rng.random(shape) < 0.12
        arr[mask] = np.nan
    result = aqi.daily_aqi_array(hourly, profile)
    for s in range(shape[0]):
        for d in range(shape[1]):
            day = {p: [None if np.isnan(v) else float(v) for v in hourly[p][s, d]] for p in hourly}
            values = {f"{p}_24h": aqi.daily_mean(day[p]) for p in ("so2", "no2", "co", "pm10", "pm25")}
            values["o3_8h"] = aqi.daily_max_8h(day["o3"])
            if profile == "HJ633-2012":
                o3 = [v for v in day["o3"] if v is not None]
                values["o3_1h"] = max(o3) if len(o3) >= 20 else None
            report = aqi.daily_report(values, profile)
            got = result.aqi[s, d]
            assert (np.isnan(got) and report.aqi is None) or got == report.aqi, (s, d, got, report.aqi)
            for ind, res in report.indicators.items():
                g = result.iaqi[ind][s, d]
                assert (np.isnan(g) and res.iaqi is None) or g == res.iaqi
            if report.aqi is not None:
                assert result.level[s, d] == report.category.level
            for ind in report.primary_pollutants:
                assert result.primary_mask(ind)[s, d]
