import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.iot.credentials import issue_credential
from zhili.iot.models import Alarm, DeadLetter, Device, DeviceCredential, Metric, Rule
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


@pytest.mark.req("R-10.3-iot")
class TestDeviceCredential(RegisteredModelTests):
    model = DeviceCredential
    update_data = {"active": False}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.device = make_device(code="CRED-DEV-1")

    @property
    def form_data(self):
        return {"device": self.device.pk, "kind": "password", "username": "gw-form", "active": True}

    def make_object(self):
        return issue_credential(self.device).credential

    def csv_rows(self):
        return [
            {"device": "CRED-DEV-1", "kind": "token", "username": "imp-a", "active": "true"},
            {"device": "CRED-DEV-1", "kind": "password", "username": "imp-b", "active": "false"},
        ]


@pytest.mark.req("R-5.3.2-monitor")
class TestAlarm(RegisteredModelTests):
    model = Alarm
    update_data = {"message": "人工核实后更新"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.device = make_device(code="ALM-DEV-1")
        cls.rule = make_rule(code="alm-rule-1")
        cls.rule2 = make_rule(code="alm-rule-2")
        cls.rule3 = make_rule(code="alm-rule-3")

    @property
    def form_data(self):
        return {
            "device": self.device.pk,
            "rule": self.rule2.pk,
            "severity": "minor",
            "status": "raised",
            "message": "巡查发现监测站异常",
        }

    def make_object(self):
        return Alarm.objects.create(device=self.device, rule=self.rule, message="PM2.5 超标", value=120)

    def csv_rows(self):
        return [
            {
                "device": "ALM-DEV-1",
                "rule": "alm-rule-3",
                "severity": "major",
                "status": "raised",
                "message": "导入告警一",
            },
            {
                "device": "ALM-DEV-1",
                "rule": "alm-rule-2",
                "severity": "minor",
                "status": "closed",
                "message": "导入告警二",
            },
        ]


@pytest.mark.req("R-5.1-fusion")
class TestDeadLetter(RegisteredModelTests):
    model = DeadLetter
    update_data = {"detail": "已核查：设备时钟错误"}
    form_data = {
        "channel": "http",
        "device_code": "FORM-1",
        "reason": "bad_timestamp",
        "detail": "ts 1970",
        "received_at": "2026-03-01 08:00:00",
        "repeat_count": 1,
    }

    def make_object(self):
        return DeadLetter.objects.create(
            channel="mqtt", device_code="DL-1", reason="malformed", detail="not JSON"
        )

    def csv_rows(self):
        return [
            {
                "channel": "mqtt",
                "device_code": "IMP-DL-1",
                "reason": "malformed",
                "detail": "x",
                "received_at": "2026-03-01 08:00:00",
                "repeat_count": "1",
            },
            {
                "channel": "http",
                "device_code": "IMP-DL-2",
                "reason": "out_of_range",
                "detail": "y",
                "received_at": "2026-03-01 09:00:00",
                "repeat_count": "2",
            },
        ]
