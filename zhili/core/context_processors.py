"""Navigation grouped by the standard's chapters, showing only pages the user may open."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from zhili.core.permissions import has_action
from zhili.core.registry import registry


def build_navigation(user) -> list[dict]:
    """Return ``[{key, label, items: [{label, url, icon}]}]`` for ``user``; empty groups are left out."""
    if not user.is_authenticated:
        return []
    groups = {key: {"key": key, "label": label, "items": []} for key, label in settings.NAV_GROUPS}
    for link in registry.nav_links:
        if link["perm"] and not user.has_perm(link["perm"]):
            continue
        if link["staff_only"] and not user.is_staff:
            continue
        try:
            url = reverse(link["url_name"])
        except NoReverseMatch:
            continue
        groups[link["group"]]["items"].append(
            {"label": link["label"], "url": url, "icon": link["icon"], "order": link["order"]}
        )
    for entry in registry:
        if entry.nav and has_action(user, entry.model, "view"):
            groups[entry.group]["items"].append(
                {
                    "label": entry.verbose_name_plural,
                    "url": reverse(entry.url_name("list")),
                    "icon": entry.icon,
                    "order": entry.order,
                }
            )
    result = []
    for group in groups.values():
        if group["items"]:
            group["items"].sort(key=lambda item: item["order"])
            result.append(group)
    return result


def navigation(request):
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"navigation": build_navigation(user), "ZHILI_VERSION": __import__("zhili").__version__}
