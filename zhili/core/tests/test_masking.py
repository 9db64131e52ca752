import pytest

from zhili.core.masking import mask_address, mask_id_number, mask_name, mask_phone, sensitive_fields
from zhili.people.models import Resident

pytestmark = pytest.mark.req("R-10.3-rbac")


def test_masks_follow_the_usual_chinese_forms():
    assert mask_id_number("330102199001011234") == "330102********1234"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_address("浙江省杭州市西湖区清溪镇桃源村3组12号").startswith("浙江省杭州市")
    assert mask_address("浙江省杭州市西湖区清溪镇桃源村3组12号").endswith("****")
    assert mask_name("张三丰") == "张**"


def test_resident_declares_its_personal_data_sensitive():
    names = {f.name for f in sensitive_fields(Resident)}
    assert {"id_number", "phone", "address"} <= names
