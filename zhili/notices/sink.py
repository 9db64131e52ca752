"""The sink that stores each notice once per recipient (one INSERT for all of them)."""

from zhili.notices.models import Level, Notice


def store_notice(notice: dict) -> None:
    recipients = {user.pk: user for user in notice["recipients"] if getattr(user, "pk", None)}
    if not recipients:
        return
    level = notice["level"] if notice["level"] in Level.values else Level.INFO
    Notice.objects.bulk_create(
        Notice(
            recipient_id=pk,
            title=notice["title"][:200],
            body=notice["body"],
            url=(notice["url"] or "")[:500],
            level=level,
            category=(notice["category"] or "")[:60],
            object_type=notice["object_type"] or "",
            object_id=notice["object_id"] or "",
        )
        for pk in recipients
    )
