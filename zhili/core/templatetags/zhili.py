from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def entry_url(entry, view, *args):
    """Return the URL of one of a registered model's pages: ``{% entry_url entry "add" %}``."""
    return reverse(entry.url_name(view), args=args)
