from django.utils.translation import gettext_lazy as _

from zhili.cases.models import CalendarDay, Case, CaseCategory, FollowUpVisit, RoutingRule
from zhili.core.registry import register, registry

register(
    Case,
    group="social",
    icon="megaphone",
    natural_key="number",
    search_fields=("number", "title", "address", "reporter_name"),
    list_fields=(
        "number",
        "title",
        "category",
        "channel",
        "status",
        "sla_state",
        "due_at",
        "department",
        "grid",
    ),
    filter_fields=("category", "channel", "status", "sla_state", "urgent", "department", "grid", "assignee"),
    form_fields=(
        "category",
        "title",
        "description",
        "channel",
        "urgent",
        "geometry",
        "address",
        "grid",
        "reporter_name",
        "reporter_phone",
    ),
    select_related=("category", "department", "grid"),
    ordering=("-reported_at",),
    order=10,
)
register(
    CaseCategory,
    group="social",
    icon="diagram-3",
    lookup=True,
    natural_key="code",
    search_fields=("code", "name", "keywords"),
    list_fields=("code", "name", "parent", "default_department", "handle_days", "is_public", "is_active"),
    form_fields=(
        "code",
        "name",
        "parent",
        "description",
        "default_department",
        "handle_days",
        "urgent_handle_hours",
        "is_public",
        "allow_anonymous",
        "extra_questions",
        "keywords",
        "sort_order",
        "is_active",
    ),
    select_related=("parent", "default_department"),
    ordering=("sort_order", "code"),
    order=60,
)
register(
    RoutingRule,
    group="social",
    icon="signpost-split",
    search_fields=("name",),
    list_fields=(
        "name",
        "category",
        "grid",
        "department",
        "assignee",
        "dispatch_to_grid_worker",
        "priority",
        "is_active",
    ),
    select_related=("category", "grid", "department", "assignee"),
    order=61,
)
register(
    FollowUpVisit,
    group="social",
    icon="telephone-outbound",
    search_fields=("reason", "case__number"),
    list_fields=("case", "reason", "assignee", "due_date", "done"),
    select_related=("case", "assignee"),
    order=30,
)
register(
    CalendarDay,
    group="system",
    icon="calendar3",
    natural_key="date",
    search_fields=("name",),
    list_fields=("date", "name", "is_working_day"),
    ordering=("date",),
    order=80,
)

registry.add_nav_link("social", _("Report a problem"), "cases:report", icon="phone", order=5)
registry.add_nav_link(
    "social", _("Case work queues"), "cases:queue", icon="inboxes", perm="cases.view_case", order=6
)
registry.add_nav_link("social", _("Case map"), "cases:map", icon="geo-alt", perm="cases.view_case", order=7)
registry.add_nav_link(
    "social", _("Case statistics"), "cases:stats", icon="bar-chart", perm="cases.view_case", order=8
)
registry.add_nav_link(
    "social", _("Hotline intake (12345)"), "cases:hotline", icon="headset", perm="cases.add_case", order=9
)
