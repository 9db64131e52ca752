"""Size and seed of the demo town."""

import datetime
from dataclasses import dataclass

#: Ages and dates are computed at this fixed day, so the same scale always gives the same data.
REFERENCE_DATE = datetime.date(2025, 12, 31)
SEED = 20251231
#: Village codes have three digits, so one town holds at most 999 villages (scale 124).
MAX_SCALE = 124


@dataclass(frozen=True)
class DemoSpec:
    """How big the demo town is. One scale unit is 5 villages and 3 communities.

    At ``density=1`` a scale unit holds 2,000 buildings, 6,000 households, 15,000 residents and
    300 business units. ``density`` shrinks every village alike (tests use 0.05) while keeping
    the grid structure (5 basic grids per village, see ``geometry.split_village``) intact.
    """

    scale: int = 1
    density: float = 1.0
    seed: int = SEED
    villages_per_unit: int = 5
    communities_per_unit: int = 3
    # Per administrative village / community at density 1.
    village_buildings: int = 280
    community_buildings: int = 200
    village_households: int = 360
    community_households: int = 1400
    village_residents: int = 1140
    community_residents: int = 3100
    village_businesses: int = 24
    community_businesses: int = 60

    def __post_init__(self):
        if not 1 <= self.scale <= MAX_SCALE:
            raise ValueError(f"scale must be between 1 and {MAX_SCALE}")
        if not 0 < self.density <= 4:
            raise ValueError("density must be in (0, 4]")

    @property
    def n_villages(self) -> int:
        return self.scale * (self.villages_per_unit + self.communities_per_unit)

    @property
    def n_communities(self) -> int:
        return self.scale * self.communities_per_unit

    def per_division(self, community: bool) -> dict[str, int]:
        """Target counts for one village or community at this density."""

        def scaled(value: int, minimum: int = 1) -> int:
            return max(minimum, round(value * self.density))

        if community:
            return {
                "buildings": scaled(self.community_buildings, 4),
                "households": scaled(self.community_households, 3),
                "residents": scaled(self.community_residents, 3),
                "businesses": scaled(self.community_businesses),
            }
        return {
            "buildings": scaled(self.village_buildings, 4),
            "households": scaled(self.village_households, 3),
            "residents": scaled(self.village_residents, 3),
            "businesses": scaled(self.village_businesses),
        }
