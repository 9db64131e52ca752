"""The signed-in user's notices: list (all / unread), mark one or all read, and the unread count."""

from django.core.paginator import Paginator
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from zhili.core import audit
from zhili.notices.models import Notice


def notice_list(request):
    notices = Notice.objects.filter(recipient=request.user)
    show = request.GET.get("show", "unread")
    if show == "unread":
        notices = notices.filter(read_at__isnull=True)
    page = Paginator(notices, 30).get_page(request.GET.get("page"))
    return render(request, "notices/list.html", {"page": page, "show": show})


@require_POST
def mark_read(request, pk):
    notice = get_object_or_404(Notice, pk=pk, recipient=request.user)
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.save(update_fields=["read_at"])
    target = request.POST.get("next") or notice.url
    if not target or not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect("notices:list")
    return redirect(target)


@require_POST
def mark_all_read(request):
    count = Notice.objects.filter(recipient=request.user, read_at__isnull=True).update(read_at=timezone.now())
    audit.emit("notices.read_all", user=request.user, details={"count": count})
    return redirect("notices:list")


def unread_count(request):
    count = Notice.objects.filter(recipient=request.user, read_at__isnull=True).count()
    return JsonResponse({"unread": count})
