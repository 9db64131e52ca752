"""API date-times: out-of-range years are a field error, not an invalid RFC 3339 answer (R-10.3-input)."""

import pytest

from zhili.core.api.serializers import BoundedDateTimeField

pytestmark = pytest.mark.req("R-10.3-input")


def test_years_outside_1900_2199_are_refused():
    from rest_framework.exceptions import ValidationError

    field = BoundedDateTimeField()
    assert field.to_internal_value("2026-11-24T08:00:00+08:00").year == 2026
    with pytest.raises(ValidationError):
        field.to_internal_value("0198-02-03T11:41:07+08:00")
