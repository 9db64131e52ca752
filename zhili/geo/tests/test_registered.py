"""Generic CRUD/import/export/API tests of layer styles (data only; see core.testing)."""

import pytest

from zhili.core.testing import RegisteredModelTests
from zhili.geo.models import LayerStyle

pytestmark = pytest.mark.req("R-0-twin")


class TestLayerStyle(RegisteredModelTests):
    model = LayerStyle
    form_data = {
        "layer": "places.road",
        "title": "道路",
        "kind": "categorized",
        "attribute": "road_class",
        "stroke_color": "#ff8800",
        "fill_color": "#ff8800",
        "fill_opacity": 0.3,
        "stroke_width": 2,
        "classes": '[{"value": "branch", "color": "#aa0000", "label": "支路"}]',
        "order": 30,
    }
    update_data = {"title": "主要道路"}

    def make_object(self):
        return LayerStyle.objects.create(layer="places.building", title="建筑")

    def csv_rows(self):
        return [
            {
                "layer": "places.grid",
                "title": "网格",
                "kind": "single",
                "stroke_color": "#00aa00",
                "fill_color": "#00aa00",
            },
            {
                "layer": "places.division",
                "title": "行政区",
                "kind": "single",
                "stroke_color": "#777777",
                "fill_color": "#777777",
            },
        ]
