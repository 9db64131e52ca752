"""Benchmark: map services against pygeoapi, WMS/WMTS latency, residents near a point.

Builds a town of 10,000 buildings (20 m squares on a 50 m lattice, ~5 km × 5 km) and
--residents residents (raw inserts, 100 per building through one house per building), starts
the real ``zhili up`` on 127.0.0.1 and, in the same run, pygeoapi (PyPI) under waitress serving
the same buildings exported by Zhili. Measures:

1. bbox query returning all 10,000 buildings as GeoJSON: Zhili ``/geo/api/layers/…/features/``
   and WFS GetFeature vs pygeoapi ``/collections/buildings/items`` (target: Zhili no slower);
2. WMS GetMap 256×256 over the 10,000 buildings, p50 (target ≤ 150 ms);
3. cached WMTS tile, p99 (target ≤ 20 ms);
4. "residents within 500 m of a point" over all residents, in-process through
   ``zhili.core.spatial`` (count + first 50), p50/p99 (target ≤ 50 ms).

pygeoapi's GeoPackage provider (SQLiteGPKG) needs mod_spatialite loaded into Python's sqlite3,
and its OGR provider needs GDAL's Python bindings; neither is available with a pip-only
install (this Python's sqlite3 cannot load extensions), so pygeoapi serves the same export as
GeoJSON through its GeoJSON provider, and the GeoPackage is written too (and its size reported).

    python bench/geo_services.py [--residents 1000000] [--requests 30]
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    HOST,
    BenchEnvironment,
    Browser,
    ZhiliServer,
    free_port,
    loadavg,
    print_table,
    setup_django,
)

USERNAME = "bench_geo"
PASSWORD = "Bench-Geo-2026!"
LON0, LAT0 = 119.93, 30.24
STEP_M = 50.0
SIDE = 100  # 100 × 100 buildings


def fill(residents: int) -> dict:
    import numpy as np
    from django.db import connection, transaction
    from residents_api import fill_database
    from shapely.geometry import box

    from zhili.core.bulk import bulk_insert
    from zhili.places.models import Building, Division, House

    started = time.perf_counter()
    data = fill_database(residents)
    villages = list(Division.objects.filter(level="village").order_by("code"))
    dlat = STEP_M / 111_320
    dlon = STEP_M / (111_320 * np.cos(np.radians(LAT0)))
    buildings = []
    for i in range(SIDE * SIDE):
        row, col = divmod(i, SIDE)
        lon, lat = LON0 + col * dlon, LAT0 + row * dlat
        buildings.append(
            Building(
                code=f"BB{i:06d}",
                name=f"{i}号楼",
                address=f"基准路{i}号",
                division=villages[i % len(villages)],
                floors=1 + i % 12,
                geometry=box(lon, lat, lon + dlon * 0.4, lat + dlat * 0.4),
                data_source="demo",
            )
        )
    with transaction.atomic():
        for start in range(0, len(buildings), 2000):
            bulk_insert(buildings[start : start + 2000])
        houses = [
            House(building=b, code=f"{b.code}-1-101", unit="1", room="101", data_source="demo")
            for b in buildings
        ]
        for start in range(0, len(houses), 2000):
            bulk_insert(houses[start : start + 2000])
        first = House.objects.order_by("pk").values_list("pk", flat=True).first()
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE people_resident SET house_id = {first} + (id % {len(houses)})")
    from zhili.core.dbstats import refresh_statistics

    refresh_statistics()  # as `zhili up` does when it starts
    if connection.vendor == "postgresql":
        # What autovacuum does after the bulk UPDATE above (as bench/residents_api.py does after
        # its load): without it every resident row has a dead twin and no page is all-visible.
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    data["buildings"] = len(buildings)
    data["fill_total_seconds"] = time.perf_counter() - started
    data["extent"] = (LON0, LAT0, LON0 + SIDE * dlon, LAT0 + SIDE * dlat)
    return data


def residents_near(lon: float, lat: float, metres: float = 500) -> tuple[int, list]:
    """The query measured: buildings within ``metres`` (bbox index + exact distance), then their
    residents (count, and the first 50 by id) through house → building."""
    from zhili.core import spatial
    from zhili.people.models import Resident
    from zhili.places.models import Building

    building_ids = [pk for pk, _d in spatial.distances_m(Building.objects.all(), lon, lat, metres)]
    residents = Resident.objects.filter(house__building_id__in=building_ids)
    return residents.count(), list(residents.order_by("pk").values_list("pk", "name")[:50])


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
        "max_ms": round(ordered[-1] * 1000, 1),
    }


def timed(browser, path, n, check=None) -> dict:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        status, headers, body = browser.get(path)
        samples.append(time.perf_counter() - start)
        if status != 200:
            raise RuntimeError(f"GET {path} answered {status}: {body[:300]!r}")
        if check:
            check(headers, body)
    return percentiles(samples)


def start_pygeoapi(workdir: Path, geojson: Path, port: int) -> subprocess.Popen:
    config = workdir / "pygeoapi.yml"
    openapi = workdir / "openapi.yml"
    config.write_text(
        f"""
server:
  bind: {{host: {HOST}, port: {port}}}
  url: http://{HOST}:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10000, max_items: 10000}}
  map: {{url: "http://{HOST}/", attribution: ""}}
logging: {{level: ERROR}}
metadata:
  identification: {{title: bench, description: bench, keywords: [bench], keywords_type: theme, terms_of_service: none, url: http://{HOST}}}
  license: {{name: none, url: http://{HOST}}}
  provider: {{name: bench, url: http://{HOST}}}
  contact: {{name: bench}}
resources:
  buildings:
    type: collection
    title: buildings
    description: buildings
    keywords: [buildings]
    extents:
      spatial: {{bbox: [119, 30, 121, 31], crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84}}
    providers:
      - type: feature
        name: GeoJSON
        data: {geojson}
        id_field: id
""",
        encoding="utf-8",
    )
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    with open(openapi, "w") as out:
        subprocess.run(
            [sys.executable, "-c", "from pygeoapi import cli; cli()", "openapi", "generate", str(config)],
            env=env,
            stdout=out,
            check=True,
            timeout=120,
        )
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "waitress",
            "--host",
            HOST,
            f"--port={port}",
            "--threads=6",
            "pygeoapi.flask_app:APP",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            status, _h, _b = Browser(port, timeout=5).get("/collections")
            if status == 200:
                return process
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError("pygeoapi did not start: " + process.stderr.read().decode()[-2000:])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="on postgresql the radius query is measured without and then with PostGIS (if installed)",
    )
    args = parser.parse_args()
    figures: dict = {"load_before": loadavg(), "database": args.database}
    with BenchEnvironment("geo", args.database, keep=args.keep) as env:
        setup_django()
        from django.contrib.auth import get_user_model
        from django.core.management import call_command
        from django.db import connections

        call_command("migrate", interactive=False, verbosity=0)
        print(f"filling {args.residents:,} residents and {SIDE * SIDE:,} buildings…", flush=True)
        data = fill(args.residents)
        figures["fill"] = {
            k: (round(v, 1) if isinstance(v, float) else v)
            for k, v in data.items()
            if k in ("residents", "buildings", "fill_total_seconds")
        }
        print(f"filled in {data['fill_total_seconds']:.1f} s", flush=True)
        user = get_user_model().objects.create_superuser(USERNAME, password=PASSWORD)

        # 4. residents within 500 m, in-process.
        minx, miny, maxx, maxy = data["extent"]

        def measure_radius() -> dict:
            rng = random.Random(500)
            samples, counts = [], []
            residents_near(minx + 0.01, miny + 0.01)  # warm caches
            for _ in range(1000):  # with 100 samples the "p99" would be the single slowest query
                lon, lat = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
                start = time.perf_counter()
                count, _first = residents_near(lon, lat)
                samples.append(time.perf_counter() - start)
                counts.append(count)
            return {**percentiles(samples), "mean_count": round(statistics.mean(counts))}

        figures["residents_within_500m"] = measure_radius()
        print("residents within 500 m:", figures["residents_within_500m"], flush=True)
        if args.database == "postgresql":
            from django.db import connection

            from zhili.core import spatial

            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
                if cursor.fetchone():
                    cursor.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            connection._zhili_postgis = None
            if spatial.has_postgis():
                figures["residents_within_500m_postgis"] = measure_radius()
                print(
                    "residents within 500 m (PostGIS):", figures["residents_within_500m_postgis"], flush=True
                )
                with connection.cursor() as cursor:
                    cursor.execute("DROP EXTENSION postgis")
                connection._zhili_postgis = None
            else:
                print("PostGIS is not installed on this server: measured without it only")

        # Export the buildings once (GeoJSON for pygeoapi, GeoPackage as the issue asks).
        from zhili.core.registry import registry
        from zhili.geo import gisio
        from zhili.places.models import Building

        entry = registry.get(Building)
        workdir = Path(tempfile.mkdtemp(prefix="zhili-bench-pygeoapi-", dir=env.data_dir))
        gpkg, _name, _type = gisio.export_layer(entry, Building.objects.all(), user, "gpkg")
        (workdir / "buildings.gpkg").write_bytes(gpkg)
        geojson, _name, _type = gisio.export_layer(entry, Building.objects.all(), user, "geojson")
        (workdir / "buildings.geojson").write_bytes(geojson)
        figures["export_bytes"] = {"gpkg": len(gpkg), "geojson": len(geojson)}
        for conn in connections.all():
            conn.close()

        port = free_port()
        server = ZhiliServer(env.server_env(), port, extra_args=("--no-demo",))
        peer_port = free_port()
        peer = None
        try:
            server.wait_ready(300)
            browser = Browser(port)
            browser.sign_in(USERNAME, PASSWORD)
            bbox = f"{minx - 0.001},{miny - 0.001},{maxx + 0.001},{maxy + 0.001}"

            def all_buildings(_headers, body):
                assert json.loads(body)["numberReturned"] == SIDE * SIDE

            n = args.requests
            figures["zhili_geojson_10000"] = timed(
                browser,
                f"/geo/api/layers/places.building/features/?bbox={bbox}&limit=10000",
                max(5, n // 3),
                all_buildings,
            )
            wfs = (
                "/ogc/wfs?service=WFS&version=2.0.0&request=GetFeature&typeNames=zhili:places.building"
                f"&outputFormat=application/json&count=10000&bbox={bbox},EPSG:4326"
            )
            figures["zhili_wfs_10000"] = timed(browser, wfs, max(5, n // 3), all_buildings)
            peer = start_pygeoapi(workdir, workdir / "buildings.geojson", peer_port)
            peer_browser = Browser(peer_port)

            def peer_all(_headers, body):
                assert len(json.loads(body)["features"]) == SIDE * SIDE

            figures["pygeoapi_geojson_10000"] = timed(
                peer_browser,
                f"/collections/buildings/items?bbox={bbox}&limit=10000&f=json",
                max(5, n // 3),
                peer_all,
            )
            # 2. WMS GetMap 256×256 over all buildings.
            getmap = (
                "/ogc/wms?service=WMS&version=1.3.0&request=GetMap&layers=places.building&styles=&crs=CRS:84"
                f"&bbox={bbox}&width=256&height=256&format=image/png&transparent=true"
            )
            timed(browser, getmap, 3)
            figures["wms_getmap_256"] = timed(browser, getmap, n)
            # 3. cached WMTS tile: one tile over the town at z=14, requested repeatedly.
            import math

            z = 14
            col = int((LON0 + 180) / 360 * 2**z)
            row = int((1 - math.asinh(math.tan(math.radians(LAT0))) / math.pi) / 2 * 2**z)
            tile = f"/ogc/wmts/places.building/default/GoogleMapsCompatible/{z}/{row}/{col}.png"
            browser.get(tile)

            def hit(headers, _body):
                assert headers.get("x-tile-cache") == "HIT"

            figures["wmts_cached_tile"] = timed(browser, tile, max(n * 10, 200), hit)
        finally:
            server.stop()
            if peer is not None:
                peer.terminate()
                peer.wait(20)
    figures["load_after"] = loadavg()
    z, w, p = figures["zhili_geojson_10000"], figures["zhili_wfs_10000"], figures["pygeoapi_geojson_10000"]
    rows = [
        [
            "bbox → 10,000 buildings GeoJSON (Zhili REST)",
            z["p50_ms"],
            z["p99_ms"],
            f"{p['p50_ms'] / z['p50_ms']:.2f}× pygeoapi",
            "OK" if z["p50_ms"] <= p["p50_ms"] else "MISS",
        ],
        [
            "bbox → 10,000 buildings (Zhili WFS GeoJSON)",
            w["p50_ms"],
            w["p99_ms"],
            f"{p['p50_ms'] / w['p50_ms']:.2f}× pygeoapi",
            "OK" if w["p50_ms"] <= p["p50_ms"] else "MISS",
        ],
        ["bbox → 10,000 buildings (pygeoapi)", p["p50_ms"], p["p99_ms"], "", ""],
        [
            "WMS GetMap 256×256, 10,000 buildings",
            figures["wms_getmap_256"]["p50_ms"],
            figures["wms_getmap_256"]["p99_ms"],
            "p50 ≤ 150 ms",
            "OK" if figures["wms_getmap_256"]["p50_ms"] <= 150 else "MISS",
        ],
        [
            "WMTS cached tile",
            figures["wmts_cached_tile"]["p50_ms"],
            figures["wmts_cached_tile"]["p99_ms"],
            "p99 ≤ 20 ms",
            "OK" if figures["wmts_cached_tile"]["p99_ms"] <= 20 else "MISS",
        ],
        [
            f"residents within 500 m ({args.residents:,})",
            figures["residents_within_500m"]["p50_ms"],
            figures["residents_within_500m"]["p99_ms"],
            "≤ 50 ms",
            "OK" if figures["residents_within_500m"]["p99_ms"] <= 50 else "MISS",
        ],
    ]
    if "residents_within_500m_postgis" in figures:
        postgis = figures["residents_within_500m_postgis"]
        rows.append(
            [
                f"residents within 500 m, PostGIS ({args.residents:,})",
                postgis["p50_ms"],
                postgis["p99_ms"],
                "≤ 50 ms",
                "OK" if postgis["p99_ms"] <= 50 else "MISS",
            ]
        )
    print_table(f"Geo services on {args.database} (ms)", ["measure", "p50", "p99", "target", ""], rows)
    print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
