from zhili.core.registry import register
from zhili.orgs.models import BusinessUnit, Department

register(
    Department,
    group="system",
    icon="diagram-3",
    lookup=True,
    natural_key="code",
    search_fields=("name", "code"),
    list_fields=("name", "code", "kind", "parent", "head_name", "phone"),
    ordering=("path", "sort_order"),
    order=20,
)
register(
    BusinessUnit,
    group="social",
    icon="shop",
    natural_key="uscc",
    search_fields=("name", "uscc", "legal_representative"),
    list_fields=("name", "uscc", "unit_type", "industry", "grid", "status"),
    select_related=("grid",),
    order=40,
)
