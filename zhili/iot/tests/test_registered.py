import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.iot.models import Device, Metric, Rule
from zhili.iot.tests.factories import ensure_metrics, make_device, make_rule


@pytest.mark.req("R-5.1-fusion", "R-10.3-iot")
class TestDevice(RegisteredModelTests):
    model = Device
    update_data = {"name": "改名后的监测站"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        ensure_metrics()

    @property
    def form_data(self):
        return {
            "code": "AQ-FORM-1",
            "name": "镇政府空气站",
            "device_type": "air_station",
            "geometry": '{"type": "Point", "coordinates": [119.96, 30.27]}',
            "enabled": True,
        }

    def make_object(self):
        return make_device("noise_meter", name="工地噪声仪")

    def csv_rows(self):
        return [
            {
                "code": "IMP-1",
                "name": "导入设备一",
                "device_type": "dust_monitor",
                "longitude": "119.95",
                "latitude": "30.26",
            },
            {
                "code": "IMP-2",
                "name": "导入设备二",
                "device_type": "noise_meter",
                "longitude": "119.97",
                "latitude": "30.28",
            },
        ]


@pytest.mark.req("R-5.1-fusion")
class TestMetric(RegisteredModelTests):
    model = Metric
    update_data = {"name": "水温"}
    form_data = {
        "code": "water_temp",
        "name": "水温",
        "unit": "°C",
        "min_value": -5,
        "max_value": 50,
        "decimals": 1,
        "device_types": "water_quality",
    }

    def make_object(self):
        return Metric.objects.create(code="leaf_wet", name="叶面湿度", unit="%", min_value=0, max_value=100)

    def csv_rows(self):
        return [
            {
                "code": "m_one",
                "name": "指标一",
                "unit": "%",
                "min_value": "0",
                "max_value": "100",
                "decimals": "1",
            },
            {
                "code": "m_two",
                "name": "指标二",
                "unit": "m",
                "min_value": "0",
                "max_value": "10",
                "decimals": "2",
            },
        ]


@pytest.mark.req("R-5.3.2-monitor")
class TestRule(RegisteredModelTests):
    model = Rule
    update_data = {"name": "改名后的规则"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.metrics = ensure_metrics()

    @property
    def form_data(self):
        return {
            "code": "form-rule",
            "name": "PM10 超标",
            "kind": "threshold",
            "device_type": "dust_monitor",
            "metric": self.metrics["pm10"].pk,
            "params": '{"op": ">", "value": 150}',
            "severity": "major",
            "enabled": True,
            "case_category": "env.dust",
        }

    def api_data(self):
        data = dict(self.form_data)
        data["params"] = {"op": ">", "value": 150}
        return data

    def make_object(self):
        return make_rule(code="made-rule", name="PM2.5 超标")

    def csv_rows(self):
        return [
            {
                "code": "csv-a",
                "name": "规则甲",
                "kind": "threshold",
                "metric": "pm25",
                "params": '{"value": 75}',
                "severity": "minor",
                "device_type": "air_station",
            },
            {
                "code": "csv-b",
                "name": "规则乙",
                "kind": "rate_of_change",
                "metric": "pressure_mpa",
                "params": '{"max_per_minute": 0.05}',
                "severity": "critical",
                "device_type": "pipe_pressure",
            },
        ]
