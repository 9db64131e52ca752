"""Load Zhili's OGC services in QGIS (PyQGIS, headless) and print what QGIS saw, as JSON.

Run by ``test_qgis.py`` with Debian's ``/usr/bin/python3`` (where ``python3-qgis`` lives), not by
pytest itself, and imports nothing from Zhili:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 qgis_client.py http://127.0.0.1:PORT
"""

import faulthandler
import json
import os
import sys
from urllib.parse import quote

from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor

BBOX = (119.89, 30.19, 120.01, 30.26)  # the test town (lon/lat)


def painted_pixels(layer, crs: str, extent: QgsRectangle, size: int = 256) -> int:
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(QgsCoordinateReferenceSystem(crs))
    settings.setExtent(extent)
    settings.setOutputSize(QSize(size, size))
    settings.setBackgroundColor(QColor(0, 0, 0, 0))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    image = job.renderedImage()
    return sum(
        1 for x in range(0, size, 2) for y in range(0, size, 2) if QColor(image.pixel(x, y)).alpha() > 0
    )


def main(base: str) -> dict:
    faulthandler.enable()
    app = QgsApplication([], False)
    app.initQgis()
    out = {}
    wfs = QgsVectorLayer(
        f"pagingEnabled='true' srsname='EPSG:4326' typename='zhili:places.building' "
        f"url='{base}/ogc/wfs' version='2.0.0'",
        "buildings",
        "WFS",
    )
    out["wfs_valid"] = wfs.isValid()
    if wfs.isValid():
        features = list(wfs.getFeatures())
        out["wfs_features"] = len(features)
        out["wfs_fields"] = [f.name() for f in wfs.fields()]
        out["wfs_geometry_types"] = sorted({f.geometry().wkbType() for f in features})
        extent = wfs.extent()
        out["wfs_extent"] = [extent.xMinimum(), extent.yMinimum(), extent.xMaximum(), extent.yMaximum()]
    wms = QgsRasterLayer(
        f"crs=EPSG:4326&format=image/png&layers=places.building&styles=&url={base}/ogc/wms",
        "buildings (WMS)",
        "wms",
    )
    out["wms_valid"] = wms.isValid()
    if wms.isValid():
        out["wms_pixels"] = painted_pixels(wms, "EPSG:4326", QgsRectangle(*BBOX))
    wmts = QgsRasterLayer(
        "crs=EPSG:3857&format=image/png&layers=places.building&styles=default"
        f"&tileMatrixSet=GoogleMapsCompatible&url={quote(base + '/ogc/wmts?SERVICE=WMTS&REQUEST=GetCapabilities', safe=':/')}",
        "buildings (WMTS)",
        "wms",
    )
    out["wmts_valid"] = wmts.isValid()
    if wmts.isValid():
        extent = QgsRectangle(13347000, 3528000, 13360000, 3537000)  # the test town in EPSG:3857
        out["wmts_pixels"] = painted_pixels(wmts, "EPSG:3857", extent)
    else:
        out["wmts_error"] = wmts.error().message()
    return out


if __name__ == "__main__":
    print("QGIS-RESULT " + json.dumps(main(sys.argv[1].rstrip("/"))), flush=True)
    # QGIS 3.22 can crash tearing down layers at exit; the result is out, so leave at once.
    os._exit(0)
