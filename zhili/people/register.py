from zhili.core.registry import register
from zhili.people.models import FloatingRegistration, Household, Resident, Tag

register(
    Resident,
    group="community",
    icon="person-vcard",
    natural_key="id_number",
    search_fields=("name", "id_number", "phone"),
    list_fields=("name", "sex", "birth_date", "id_number", "phone", "grid", "residence_type"),
    filter_fields=(
        "grid",
        "tags",
        "sex",
        "residence_type",
        "political_status",
        "status",
        "household",
        "house",
        "birth_date",
    ),
    select_related=("grid",),
    order=10,
)
register(
    Household,
    group="community",
    icon="house-heart",
    natural_key="number",
    search_fields=("number", "head_name"),
    list_fields=("number", "head_name", "household_type", "house", "grid"),
    select_related=("grid", "house__building"),
    order=20,
)
register(
    FloatingRegistration,
    group="community",
    icon="person-walking",
    search_fields=("resident__name", "certificate_number"),
    list_fields=("resident", "origin", "arrival_date", "reason", "certificate_status", "status"),
    select_related=("resident",),
    order=25,
)
register(
    Tag,
    group="community",
    icon="tags",
    lookup=True,
    natural_key="name",
    search_fields=("name",),
    list_fields=("name", "category", "description"),
    ordering=("category", "name"),
    order=90,
)
