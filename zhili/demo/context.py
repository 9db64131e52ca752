"""State shared while the town is built: town-level rows, identifier factories, counters."""

import datetime
import itertools
from collections import Counter
from dataclasses import dataclass, field

from django.db import models
from django.utils import timezone
from shapely.geometry.base import BaseGeometry

from zhili.core.bulk import bulk_insert
from zhili.core.models import DataSource
from zhili.demo import catalog
from zhili.demo.codes import IdNumberFactory, UsccFactory
from zhili.demo.geometry import TownLayout
from zhili.demo.spec import DemoSpec

DEMO = DataSource.DEMO.value
BATCH_SIZE = 2000


@dataclass
class Town:
    spec: DemoSpec
    layout: TownLayout
    names: list[str]  # division names ("桃源村", "文昌社区"), by village index
    division: object  # places.Division of the town
    grid: object  # places.Grid of level 1
    government: object  # orgs.Department root
    tags: dict[str, object]
    arterial_area: BaseGeometry  # metric frame, land taken by through roads
    public_buildings: dict[int, list[str]]  # village index -> town public buildings it hosts
    #: The build's clock. Records dated relative to today (readings, alarms, cases) count back
    #: from this one moment, so the same seed and the same ``now`` give the same town even when
    #: a build runs across midnight or the turn of an hour.
    now: datetime.datetime = field(default_factory=timezone.now)
    counts: Counter = field(default_factory=Counter)
    ids: IdNumberFactory = field(default_factory=IdNumberFactory)
    usccs: UsccFactory = field(default_factory=lambda: UsccFactory(catalog.COUNTY_CODE))
    street_names: itertools.count = field(default_factory=itertools.count)
    compounds: itertools.count = field(default_factory=itertools.count)
    certificates: itertools.count = field(default_factory=lambda: itertools.count(1))
    business_names: set[str] = field(default_factory=set)

    def bulk(self, model: type[models.Model], objs: list) -> list:
        """Insert new rows in batches (inside the caller's transaction) and count them.

        ``core.bulk.bulk_insert`` runs the same field ``pre_save`` (bounding boxes, time stamps)
        and value preparation as ``bulk_create``, but with one prepared INSERT per batch and
        ids reserved up front; that is much faster on SQLite, which matters at a million
        residents. Objects assigned to foreign keys must already be saved.
        """
        for start in range(0, len(objs), BATCH_SIZE):
            bulk_insert(objs[start : start + BATCH_SIZE])
        self.counts[model._meta.label] += len(objs)
        return objs

    def saved(self, obj: models.Model) -> models.Model:
        """save() one row (tree rows need it for their path) and count it."""
        obj.save()
        self.counts[obj._meta.label] += 1
        return obj

    def street_name(self) -> str:
        """A community street name not used before in this town."""
        k = next(self.street_names)
        roots, variants = catalog.STREET_ROOTS, catalog.STREET_VARIANTS
        if k < len(roots) * len(variants):
            return roots[k % len(roots)] + variants[k // len(roots)]
        return f"{roots[k % len(roots)]}{k // len(roots)}号路"

    def compound_name(self) -> str:
        """A residential compound name not used before (later ones become 二期, 三期…)."""
        k = next(self.compounds)
        base = catalog.COMPOUNDS[k % len(catalog.COMPOUNDS)]
        if len(base) <= 2:
            base += "小区"
        phase = k // len(catalog.COMPOUNDS)
        if phase == 0:
            return base
        return base + (f"{catalog.CN_DIGITS[phase]}期" if phase < 10 else f"{phase + 1}期")
