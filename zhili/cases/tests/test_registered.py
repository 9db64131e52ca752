"""Generic CRUD/import/export/API tests of the case models (data only; see core.testing)."""

import itertools

import pytest

from zhili.cases.models import CalendarDay, Case, CaseCategory, FollowUpVisit, RoutingRule
from zhili.cases.tests.factories import make_case
from zhili.core.testing import RegisteredModelTests
from zhili.orgs.tests.factories import make_department

pytestmark = [pytest.mark.req("R-6-cases"), pytest.mark.req("R-11.1")]
_seq = itertools.count(1)


class TestCase_(RegisteredModelTests):
    model = Case
    update_data = {"title": "改过的标题"}

    @property
    def form_data(self):
        return {
            "category": CaseCategory.objects.get(code="city.road").pk,
            "title": "井盖缺失",
            "channel": "staff",
        }

    def make_object(self):
        return make_case(title=f"路灯不亮{next(_seq)}")

    def csv_rows(self):
        return [
            {
                "category": "city.road",
                "title": "导入的事件一",
                "channel": "hotline",
                "longitude": 119.93,
                "latitude": 30.23,
            },
            {
                "category": "city.greening",
                "title": "导入的事件二",
                "channel": "staff",
                "longitude": 119.94,
                "latitude": 30.24,
            },
        ]


class TestCaseCategory(RegisteredModelTests):
    model = CaseCategory
    form_data = {
        "code": "city.lamp",
        "name": "路灯",
        "handle_days": 3,
        "urgent_handle_hours": 12,
        "is_public": True,
        "allow_anonymous": True,
        "sort_order": 1,
        "extra_questions": "[]",
        "is_active": True,
    }
    update_data = {"name": "路灯照明"}

    def api_data(self):
        return {**self.form_data, "extra_questions": []}

    def make_object(self):
        n = next(_seq)
        return CaseCategory.objects.create(code=f"test.cat{n}", name=f"测试类别{n}")

    def csv_rows(self):
        return [
            {
                "code": "imp.one",
                "name": "导入类别一",
                "handle_days": 2,
                "is_public": "是",
                "allow_anonymous": "是",
                "extra_questions": "[]",
                "is_active": "是",
                "sort_order": 1,
                "urgent_handle_hours": 24,
            },
            {
                "code": "imp.two",
                "name": "导入类别二",
                "handle_days": 4,
                "is_public": "否",
                "allow_anonymous": "否",
                "extra_questions": "[]",
                "is_active": "是",
                "sort_order": 2,
                "urgent_handle_hours": 24,
            },
        ]


class TestRoutingRule(RegisteredModelTests):
    model = RoutingRule
    update_data = {"priority": 9}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.department = make_department()

    @property
    def form_data(self):
        return {"name": "道路归城建", "department": self.department.pk, "priority": 1, "is_active": True}

    def make_object(self):
        return RoutingRule.objects.create(name=f"规则{next(_seq)}", department=self.department)

    def csv_rows(self):
        return [
            {
                "name": "导入规则一",
                "department": self.department.code,
                "category": "city.road",
                "priority": 1,
                "is_active": "是",
                "dispatch_to_grid_worker": "否",
            },
            {
                "name": "导入规则二",
                "department": self.department.code,
                "priority": 2,
                "is_active": "是",
                "dispatch_to_grid_worker": "否",
            },
        ]


class TestFollowUpVisit(RegisteredModelTests):
    model = FollowUpVisit
    update_data = {"done": True}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.case = make_case(title="回访用事件")

    @property
    def form_data(self):
        return {"case": self.case.pk, "reason": "评价不满意", "due_date": "2026-12-01"}

    def make_object(self):
        return FollowUpVisit.objects.create(case=self.case, reason=f"回访{next(_seq)}")

    def csv_rows(self):
        return [
            {"case": self.case.number, "reason": "导入回访一", "due_date": "2026-12-01", "done": "否"},
            {"case": self.case.number, "reason": "导入回访二", "due_date": "2026-12-02", "done": "是"},
        ]


class TestCalendarDay(RegisteredModelTests):
    model = CalendarDay
    form_data = {"date": "2027-01-01", "name": "元旦", "is_working_day": False}
    update_data = {"name": "元旦节"}

    def make_object(self):
        import datetime as dt

        return CalendarDay.objects.create(
            date=dt.date(2026, 10, 1) + dt.timedelta(days=next(_seq)), name="国庆"
        )

    def csv_rows(self):
        return [
            {"date": "2027-02-16", "name": "春节", "is_working_day": "否"},
            {"date": "2027-02-20", "name": "春节调休", "is_working_day": "是"},
        ]
