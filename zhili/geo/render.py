"""Map images with Pillow (no GDAL, no mapnik): WMS GetMap, WMTS tiles, legends.

Geometries arrive in CGCS2000 lon/lat, are transformed to the output CRS and then to pixels with
one vectorised Shapely call per layer, and are drawn with Pillow's antialiasing-free primitives,
which is what lets a 256×256 image of 10,000 buildings come back in tens of milliseconds.
"""

import functools
import io
import math

import numpy as np
import shapely
from PIL import Image, ImageDraw, ImageFont
from pyproj import Transformer

WEB_MERCATOR_HALF = 20037508.342789244


@functools.cache
def to_web_mercator() -> Transformer:
    return Transformer.from_crs("EPSG:4490", "EPSG:3857", always_xy=True)


@functools.cache
def from_web_mercator() -> Transformer:
    return Transformer.from_crs("EPSG:3857", "EPSG:4490", always_xy=True)


def lonlat_bbox(crs: str, bbox) -> tuple[float, float, float, float]:
    """Return the lon/lat box covering ``bbox`` (x/y order) given in ``crs``."""
    if crs == "EPSG:3857":
        minx, miny, maxx, maxy = bbox
        lon, lat = from_web_mercator().transform([minx, maxx, minx, maxx], [miny, miny, maxy, maxy])
        return min(lon), max(min(lat), -90), max(lon), min(max(lat), 90)
    return tuple(bbox)


def project(geoms, crs: str):
    """Return lon/lat geometries in ``crs`` (EPSG:3857 needs a transform; the geographic ones do not)."""
    if crs != "EPSG:3857" or len(geoms) == 0:
        return geoms
    transformer = to_web_mercator()

    def fn(xy):
        lat = np.clip(xy[:, 1], -85.06, 85.06)
        return np.column_stack(transformer.transform(xy[:, 0], lat))

    return shapely.transform(geoms, fn)


def hex_rgba(color: str, alpha: float = 1.0) -> tuple[int, int, int, int]:
    color = color.lstrip("#")
    return int(color[0:2], 16), int(color[2:4], 16), int(color[4:6], 16), max(0, min(255, round(alpha * 255)))


class StylePainter:
    """Colours of one layer's features from its style dict (single, categorized, graduated)."""

    def __init__(self, style: dict):
        self.style = style
        self.kind = style.get("kind", "single")
        self.fill_opacity = float(style.get("fill_opacity", 0.4))
        self.width = max(1, round(float(style.get("stroke_width", 1))))
        self.default = (hex_rgba(style["stroke_color"]), hex_rgba(style["fill_color"], self.fill_opacity))
        self.categories = {}
        self.ranges = []
        for c in style.get("classes") or []:
            colors = (hex_rgba(c["color"]), hex_rgba(c["color"], self.fill_opacity))
            if self.kind == "categorized":
                self.categories[str(c.get("value"))] = colors
            elif self.kind == "graduated":
                self.ranges.append((float(c["min"]), float(c["max"]), colors))

    @property
    def attribute(self) -> str | None:
        return self.style.get("attribute") or None if self.kind != "single" else None

    def colors(self, value):
        if self.kind == "categorized":
            return self.categories.get(str(value), self.default)
        if self.kind == "graduated" and value is not None:
            try:
                number = float(value)
            except (TypeError, ValueError):
                return self.default
            for low, high, colors in self.ranges:
                if low <= number <= high:
                    return colors
        return self.default


def _split(coords: np.ndarray, index: np.ndarray):
    """Split a coordinate array into runs by index (output of get_coordinates(return_index=True))."""
    if len(index) == 0:
        return []
    cuts = np.flatnonzero(np.diff(index)) + 1
    return np.split(coords, cuts), index[np.concatenate(([0], cuts))]


def draw_layer(draw: ImageDraw.ImageDraw, geoms, values, painter: StylePainter, bbox, width, height):
    """Draw lon/lat-projected ``geoms`` (already in the output CRS) onto ``draw``."""
    if len(geoms) == 0:
        return
    minx, miny, maxx, maxy = bbox
    sx = width / (maxx - minx)
    sy = height / (maxy - miny)

    def to_pixels(xy):
        return np.column_stack(((xy[:, 0] - minx) * sx, (maxy - xy[:, 1]) * sy))

    pixels = shapely.transform(np.asarray(geoms, dtype=object), to_pixels)
    if (shapely.get_type_id(pixels) < 4).all():  # no multi-geometries: skip the split
        parts, part_of = pixels, np.arange(len(pixels))
    else:
        parts, part_of = shapely.get_parts(pixels, return_index=True)
    kinds = shapely.get_type_id(parts)
    colors = [painter.colors(values[i]) for i in part_of] if values is not None else None
    stroke, fill = painter.default
    # Polygons: fill the exterior ring (holes are drawn as outlines).
    polygon_mask = kinds == 3
    if polygon_mask.any():
        polys = parts[polygon_mask]
        owners = np.flatnonzero(polygon_mask)
        rings = shapely.get_exterior_ring(polys)
        coords, index = shapely.get_coordinates(rings, return_index=True)
        runs, run_of = _split(coords, index)
        for ring, k in zip(runs, run_of, strict=True):
            if colors is not None:
                stroke, fill = colors[owners[k]]
            flat = ring.ravel().tolist()
            if len(flat) >= 6:
                draw.polygon(flat, fill=fill, outline=stroke if painter.width <= 1 else None)
                if painter.width > 1:
                    draw.line(flat, fill=stroke, width=painter.width)
    line_mask = kinds == 1
    if line_mask.any():
        owners = np.flatnonzero(line_mask)
        coords, index = shapely.get_coordinates(parts[line_mask], return_index=True)
        runs, run_of = _split(coords, index)
        for line, k in zip(runs, run_of, strict=True):
            if colors is not None:
                stroke, fill = colors[owners[k]]
            draw.line(line.ravel().tolist(), fill=stroke, width=painter.width)
    point_mask = kinds == 0
    if point_mask.any():
        owners = np.flatnonzero(point_mask)
        coords = shapely.get_coordinates(parts[point_mask])
        radius = 4
        for (px, py), k in zip(coords, owners, strict=True):
            if colors is not None:
                stroke, fill = colors[k]
            draw.ellipse(
                (px - radius, py - radius, px + radius, py + radius),
                fill=stroke[:3] + (220,),
                outline=(255, 255, 255, 255),
            )


def new_image(width: int, height: int, transparent: bool, bgcolor: str = "#FFFFFF") -> Image.Image:
    background = (255, 255, 255, 0) if transparent else hex_rgba(bgcolor.replace("0x", "#"))
    return Image.new("RGBA", (width, height), background)


def png_bytes(image: Image.Image, transparent: bool = True) -> bytes:
    out = io.BytesIO()
    (image if transparent else image.convert("RGB")).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def legend_png(title: str, style: dict, geometry_types, labels: dict | None = None) -> bytes:
    """Return a legend: one swatch per class (or one for a single style) with its label."""
    painter = StylePainter(style)
    entries = []
    if painter.kind == "categorized":
        for c in style.get("classes") or []:
            entries.append((c.get("label") or str(c.get("value")), painter.categories[str(c.get("value"))]))
    elif painter.kind == "graduated":
        for low, high, colors in painter.ranges:
            entries.append((f"{low:g} – {high:g}", colors))
    if not entries:
        entries.append((title, painter.default))
    font = legend_font()
    row = 20
    width = 200
    image = Image.new("RGBA", (width, row * len(entries) + 4), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image, "RGBA")
    line = any("Line" in t for t in geometry_types) and not any("Polygon" in t for t in geometry_types)
    for i, (label, (stroke, fill)) in enumerate(entries):
        y = 2 + i * row
        if line:
            draw.line((2, y + 8, 18, y + 8), fill=stroke, width=3)
        else:
            draw.rectangle((2, y + 1, 18, y + 15), fill=fill[:3] + (max(fill[3], 90),), outline=stroke)
        draw.text((24, y + 1), printable(label, font), fill=(33, 37, 41, 255), font=font)
    return png_bytes(image)


@functools.cache
def legend_font():
    """A CJK-capable system font if one is installed (Noto/WenQuanYi), else Pillow's default."""
    import glob

    for pattern in (
        "/usr/share/fonts/**/NotoSansCJK*.tt[cf]",
        "/usr/share/fonts/**/wqy*.tt[cf]",
        "/usr/share/fonts/**/*CJK*.tt[cf]",
    ):
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            try:
                font = ImageFont.truetype(found[0], 13)
                font.zhili_cjk = True
                return font
            except OSError:
                continue
    return ImageFont.load_default()


def printable(text: str, font) -> str:
    """Drop characters the font cannot draw (without a CJK font, Chinese labels would be boxes)."""
    if getattr(font, "zhili_cjk", False):
        return text
    kept = "".join(ch for ch in text if ord(ch) < 0x2E80)
    return kept.strip() or "■"


# ---------------------------------------------------------------- tile matrix sets (WMTS)

#: OGC WMTS standardized pixel size (0.28 mm) and metres per degree on the equator (WGS84/CGCS2000).
PIXEL_SIZE = 0.00028
METRES_PER_DEGREE = 2 * math.pi * 6378137 / 360


class TileMatrixSet:
    def __init__(self, identifier, crs, levels, top_left, tile_extent_0, matrix_0, units_per_metre):
        self.identifier = identifier
        self.crs = crs
        self.levels = levels
        self.top_left = top_left
        self.tile_extent_0 = tile_extent_0
        self.matrix_0 = matrix_0
        self.units_per_metre = units_per_metre

    def tile_extent(self, z: int) -> float:
        return self.tile_extent_0 / 2**z

    def matrix_size(self, z: int) -> tuple[int, int]:
        return self.matrix_0[0] * 2**z, self.matrix_0[1] * 2**z

    def scale_denominator(self, z: int) -> float:
        resolution = self.tile_extent(z) / 256
        return resolution / self.units_per_metre / PIXEL_SIZE

    def tile_bbox(self, z: int, row: int, col: int) -> tuple[float, float, float, float]:
        size = self.tile_extent(z)
        minx = self.top_left[0] + col * size
        maxy = self.top_left[1] - row * size
        return minx, maxy - size, minx + size, maxy


TILE_MATRIX_SETS = {
    "GoogleMapsCompatible": TileMatrixSet(
        "GoogleMapsCompatible",
        "EPSG:3857",
        range(0, 21),
        (-WEB_MERCATOR_HALF, WEB_MERCATOR_HALF),
        2 * WEB_MERCATOR_HALF,
        (1, 1),
        1.0,
    ),
    # Like Tianditu's "c" set: lon/lat degrees, two 180° tiles at level 0.
    "CGCS2000": TileMatrixSet(
        "CGCS2000",
        "EPSG:4490",
        range(0, 19),
        (-180.0, 90.0),
        180.0,
        (2, 1),
        1 / METRES_PER_DEGREE,
    ),
}
