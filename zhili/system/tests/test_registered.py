"""Generic CRUD/import/export/API tests of the system management models (see core.testing)."""

import itertools

import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.system.models import Dictionary, DictionaryItem, Post, Role, SystemParameter

pytestmark = [pytest.mark.req("R-10.3-rbac"), pytest.mark.req("R-11.1")]
_seq = itertools.count(1)


class TestRole(RegisteredModelTests):
    model = Role
    update_data = {"description": "负责本镇综治工作"}

    @property
    def form_data(self):
        return {"name": "综治专干", "code": "zongzhi", "duty": "none", "data_scope": "unit"}

    def api_data(self):
        return {"name": "接口角色", "code": "api-role", "duty": "none", "data_scope": "self"}

    def make_object(self):
        n = next(_seq)
        return Role.objects.create(name=f"测试角色{n}", code=f"test-role-{n}", data_scope="self")

    def csv_rows(self):
        return [
            {"name": "导入角色一", "code": "import-one", "duty": "none", "data_scope": "all"},
            {"name": "导入角色二", "code": "import-two", "duty": "none", "data_scope": "self"},
        ]


class TestPost(RegisteredModelTests):
    model = Post
    form_data = {"name": "网格长", "code": "grid-chief", "sort_order": 1, "is_active": True}
    update_data = {"name": "专职网格员"}

    def make_object(self):
        n = next(_seq)
        return Post.objects.create(name=f"岗位{n}", code=f"post-{n}")

    def csv_rows(self):
        return [
            {"name": "综治专干", "code": "zzzg", "sort_order": 2, "is_active": "true"},
            {"name": "民政专干", "code": "mzzg", "sort_order": 3, "is_active": "true"},
        ]


class TestDictionary(RegisteredModelTests):
    model = Dictionary
    form_data = {"code": "special-groups", "name": "特殊人群类别"}
    update_data = {"name": "特殊人群"}

    def make_object(self):
        n = next(_seq)
        return Dictionary.objects.create(code=f"dict-{n}", name=f"字典{n}")

    def csv_rows(self):
        return [{"code": "house-use", "name": "房屋用途"}, {"code": "pipe-kind", "name": "管线类别"}]


class TestDictionaryItem(RegisteredModelTests):
    model = DictionaryItem
    update_data = {"label": "社区矫正对象（更新）"}

    @classmethod
    def setUpTestData(cls):
        super().setUpTestData()
        cls.dictionary = Dictionary.objects.create(code="special", name="特殊人群")

    @property
    def form_data(self):
        return {
            "dictionary": self.dictionary.pk,
            "value": "sqjz",
            "label": "社区矫正对象",
            "sort_order": 1,
            "is_active": True,
        }

    def make_object(self):
        n = next(_seq)
        return DictionaryItem.objects.create(dictionary=self.dictionary, value=f"v{n}", label=f"项{n}")

    def csv_rows(self):
        return [
            {
                "dictionary": "special",
                "value": "xsry",
                "label": "刑满释放人员",
                "sort_order": 2,
                "is_active": "true",
            },
            {
                "dictionary": "special",
                "value": "xdry",
                "label": "吸毒人员",
                "sort_order": 3,
                "is_active": "true",
            },
        ]


class TestSystemParameter(RegisteredModelTests):
    model = SystemParameter
    form_data = {"key": "sys.town_name", "value": "清溪镇", "name": "镇名称"}
    update_data = {"value": "清溪镇人民政府"}

    def make_object(self):
        n = next(_seq)
        return SystemParameter.objects.create(key=f"param.{n}", value=str(n))

    def csv_rows(self):
        return [
            {"key": "a.one", "value": "1", "name": "参数一"},
            {"key": "a.two", "value": "2", "name": "参数二"},
        ]
