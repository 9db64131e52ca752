"""Generic CRUD/import/export/API tests of the sign-in IP rules (see core.testing)."""

import pytest

from zhili.accounts.models import IpRule
from zhili.core.testing import RegisteredModelTests

pytestmark = [pytest.mark.req("R-10.3-ident")]


class TestIpRule(RegisteredModelTests):
    model = IpRule
    form_data = {"network": "10.8.0.0/16", "action": "allow", "enabled": True, "note": "镇政府内网"}
    update_data = {"note": "镇政府内网（含村委会）"}

    def make_object(self):
        return IpRule.objects.create(network="192.168.10.0/24", action="deny", note="访客网络")

    def csv_rows(self):
        return [
            {"network": "172.16.0.0/12", "action": "allow", "enabled": "是", "note": "专网"},
            {"network": "203.0.113.7", "action": "deny", "enabled": "1", "note": "异常地址"},
        ]
