"""QGIS as a client of the OGC services (R-11.2.1-ogc): the issue asks that they work with QGIS.

QGIS runs headless from Debian's ``python3-qgis`` in its own interpreter (``/usr/bin/python3``);
the test skips, naming what is missing, where that package is not installed.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest

from zhili.geo.models import LayerStyle
from zhili.places.models import Building

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.req("R-11.2.1-ogc", "R-0-twin")]

SYSTEM_PYTHON = "/usr/bin/python3"
CLIENT = Path(__file__).with_name("qgis_client.py")


def qgis_available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, check=False)
    return probe.returncode == 0


def test_qgis_loads_wfs_wms_and_wmts_layers(live_server, town, tmp_path):
    if not qgis_available():
        pytest.skip("QGIS is not installed (Debian: apt-get install python3-qgis qgis-providers)")
    # QGIS 3.22 sends no custom headers: the layer is served anonymously, as an admin would mark it.
    LayerStyle.objects.create(layer="places.building", is_public=True)
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    run = subprocess.run(
        [SYSTEM_PYTHON, str(CLIENT), live_server.url],
        capture_output=True,
        text=True,
        timeout=180,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_RUNTIME_DIR": str(runtime),
        },
        check=False,
    )
    line = next((x for x in run.stdout.splitlines() if x.startswith("QGIS-RESULT ")), None)
    assert line, f"exit {run.returncode}: {run.stdout[-2000:]} {run.stderr[-2000:]}"
    seen = json.loads(line.removeprefix("QGIS-RESULT "))
    assert seen["wfs_valid"], seen
    assert seen["wfs_features"] == Building.objects.count() == 15
    assert {"code", "name"} <= set(seen["wfs_fields"])
    west, south, east, north = seen["wfs_extent"]
    assert 119.9 <= west < east <= 120.0 and 30.2 <= south < north <= 30.25
    assert seen["wms_valid"] and seen["wms_pixels"] > 0, seen
    assert seen["wmts_valid"] and seen["wmts_pixels"] > 0, seen
