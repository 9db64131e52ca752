import itertools

from zhili.core.identifiers import uscc_check_char
from zhili.orgs.models import BusinessUnit, Department

_seq = itertools.count(1)


def make_uscc(prefix="91", region="330106", body=None) -> str:
    """Return a valid GB 32100 code; ``prefix`` may hold letters (e.g. "N2" for rural collectives)."""
    body = body or f"MA{next(_seq):07d}"
    first17 = f"{prefix}{region}{body}"
    return first17 + uscc_check_char(first17)


def make_department(parent=None, code=None):
    n = next(_seq)
    return Department.objects.create(name=f"测试部门{n}", code=code or f"D{n:04d}", parent=parent)


def make_unit(**kwargs):
    n = next(_seq)
    return BusinessUnit.objects.create(**{"name": f"测试商店{n}", "uscc": make_uscc(), **kwargs})
