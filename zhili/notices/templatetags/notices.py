from django import template

from zhili.notices.models import Notice

register = template.Library()


@register.inclusion_tag("notices/bell.html", takes_context=True)
def notice_bell(context):
    request = context.get("request")
    user = getattr(request, "user", None)
    count = 0
    if user is not None and user.is_authenticated:
        count = Notice.objects.filter(recipient=user, read_at__isnull=True).count()
    return {"unread": count, "user": user}
