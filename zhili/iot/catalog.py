"""The standard metric catalogue (seeded by migration 0003; admins may add more).

Units follow HJ 633 / GB 3095 (CO in mg/m³, other pollutants in µg/m³), GB 12523 / GB 3096 for
noise (dB(A)). Valid ranges are instrument ranges: beyond them a value is a fault, not a reading.
"""

# code, name, unit, min, max, decimals, device types
METRICS = [
    ("pm25", "PM2.5", "µg/m³", 0, 1000, 0, "air_station,dust_monitor"),
    ("pm10", "PM10", "µg/m³", 0, 2000, 0, "air_station,dust_monitor"),
    ("tsp", "总悬浮颗粒物 TSP", "µg/m³", 0, 5000, 0, "dust_monitor"),
    ("so2", "二氧化硫 SO₂", "µg/m³", 0, 5000, 0, "air_station"),
    ("no2", "二氧化氮 NO₂", "µg/m³", 0, 3000, 0, "air_station"),
    ("co", "一氧化碳 CO", "mg/m³", 0, 150, 1, "air_station"),
    ("o3", "臭氧 O₃", "µg/m³", 0, 1200, 0, "air_station"),
    ("noise_laeq", "等效声级 LAeq", "dB(A)", 20, 140, 1, "noise_meter,dust_monitor"),
    ("noise_lmax", "最大声级 LAmax", "dB(A)", 20, 150, 1, "noise_meter"),
    ("wind_speed", "风速", "m/s", 0, 75, 1, "weather_station,dust_monitor,air_station"),
    ("wind_dir", "风向", "°", 0, 360, 0, "weather_station,dust_monitor,air_station"),
    (
        "temperature",
        "温度",
        "°C",
        -50,
        70,
        1,
        "weather_station,air_station,dust_monitor,agri_sensor,water_quality",
    ),
    ("humidity", "相对湿度", "%", 0, 100, 0, "weather_station,air_station,dust_monitor,agri_sensor"),
    ("pressure", "气压", "hPa", 800, 1100, 1, "weather_station"),
    ("rainfall", "降雨量", "mm", 0, 500, 1, "weather_station"),
    ("lon", "经度", "°", 73, 136, 6, "vehicle_gps"),
    ("lat", "纬度", "°", 3, 54, 6, "vehicle_gps"),
    ("speed", "车速", "km/h", 0, 200, 0, "vehicle_gps"),
    ("heading", "航向", "°", 0, 360, 0, "vehicle_gps"),
    ("water_ph", "pH", "", 0, 14, 2, "water_quality"),
    ("water_do", "溶解氧", "mg/L", 0, 20, 2, "water_quality"),
    ("water_turbidity", "浊度", "NTU", 0, 4000, 1, "water_quality"),
    ("water_level", "水位", "m", -10, 100, 2, "water_quality"),
    ("pressure_mpa", "管网压力", "MPa", 0, 10, 3, "pipe_pressure"),
    ("flow", "流量", "m³/h", 0, 10000, 1, "pipe_pressure"),
    ("gas_lel", "可燃气体浓度", "%LEL", 0, 100, 1, "gas_detector"),
    ("soil_moisture", "土壤含水率", "%", 0, 100, 1, "agri_sensor"),
    ("soil_temperature", "土壤温度", "°C", -30, 70, 1, "agri_sensor"),
    ("light", "光照度", "lx", 0, 200000, 0, "agri_sensor"),
    ("people_count", "通行人次", "人次", 0, 100000, 0, "access_gate"),
    ("event_count", "事件数", "次", 0, 100000, 0, "camera"),
]


def seed_metrics(metric_model) -> int:
    """Create the catalogue's metrics that do not exist yet; return how many were created."""
    created = 0
    for code, name, unit, lo, hi, decimals, types in METRICS:
        _, made = metric_model.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "unit": unit,
                "min_value": lo,
                "max_value": hi,
                "decimals": decimals,
                "device_types": types,
            },
        )
        created += made
    return created


# Default rules (R-5.3.2-monitor; GB 12523-2011 for construction noise). Codes are stable so
# that rule files exported from one town import into another.
DEFAULT_RULES = [
    {
        "code": "air-pm25-high",
        "name": "PM2.5 小时浓度超过 115 µg/m³（中度污染）",
        "kind": "threshold",
        "device_type": "air_station",
        "metric": "pm25",
        "params": {"op": ">", "value": 115},
        "severity": "major",
        "case_category": "env.air",
        "escalate_after_minutes": 60,
    },
    {
        "code": "dust-pm10-held",
        "name": "扬尘 PM10 持续 15 分钟超过 150 µg/m³",
        "kind": "threshold_duration",
        "device_type": "dust_monitor",
        "metric": "pm10",
        "params": {"op": ">", "value": 150, "duration_s": 900},
        "severity": "major",
        "case_category": "env.dust",
        "escalate_after_minutes": 30,
    },
    {
        "code": "noise-site-day-night",
        "name": "施工噪声昼间 70 / 夜间 55 dB(A)（GB 12523-2011）",
        "kind": "day_night",
        "device_type": "noise_meter",
        "metric": "noise_laeq",
        "params": {"day_limit": 70, "night_limit": 55, "day_start": "06:00", "day_end": "22:00"},
        "severity": "major",
        "case_category": "env.noise",
        "escalate_after_minutes": 30,
    },
    {
        "code": "noise-site-night-lmax",
        "name": "夜间最大声级超过限值 15 dB(A)（GB 12523-2011）",
        "kind": "day_night",
        "device_type": "noise_meter",
        "metric": "noise_lmax",
        "params": {"night_limit": 55, "max_above_night": 15, "day_start": "06:00", "day_end": "22:00"},
        "severity": "minor",
        "case_category": "env.noise",
    },
    {
        "code": "pipe-pressure-drop",
        "name": "管网压力骤降（疑似爆管）",
        "kind": "rate_of_change",
        "device_type": "pipe_pressure",
        "metric": "pressure_mpa",
        "params": {"max_per_minute": 0.05},
        "severity": "critical",
        "case_category": "pipe.leak",
        "open_case": True,
        "escalate_after_minutes": 10,
    },
    {
        "code": "pipe-pressure-low",
        "name": "管网压力低于 0.14 MPa",
        "kind": "threshold",
        "device_type": "pipe_pressure",
        "metric": "pressure_mpa",
        "params": {"op": "<", "value": 0.14},
        "severity": "major",
        "case_category": "pipe.leak",
        "auto_close": True,
    },
    {
        "code": "gas-lel-alarm",
        "name": "可燃气体浓度超过 20 %LEL",
        "kind": "threshold",
        "device_type": "gas_detector",
        "metric": "gas_lel",
        "params": {"op": ">=", "value": 20},
        "severity": "critical",
        "case_category": "pipe.leak",
        "open_case": True,
        "escalate_after_minutes": 5,
    },
    {
        "code": "water-ph-range-low",
        "name": "水体 pH 低于 6",
        "kind": "threshold",
        "device_type": "water_quality",
        "metric": "water_ph",
        "params": {"op": "<", "value": 6},
        "severity": "minor",
        "auto_close": True,
    },
    {
        "code": "device-offline",
        "name": "设备 30 分钟无数据（离线）",
        "kind": "missing_data",
        "device_type": "",
        "metric": None,
        "params": {"after_s": 1800},
        "severity": "minor",
        "case_category": "device.fault",
        "auto_close": True,
    },
]
