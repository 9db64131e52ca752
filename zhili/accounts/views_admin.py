"""User management (系统管理 › 用户), online users and API tokens for administrators (R-4.4).

Every view checks the acting user's permission with ``has_action`` and limits rows with
``restrict`` (the role's data scope applies to users as to any other model).
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from zhili.accounts import sessions
from zhili.accounts.forms import UserForm
from zhili.accounts.models import ApiToken, User, UserSession, UserStatus
from zhili.accounts.tokens import revoke_token
from zhili.core import audit
from zhili.core.masking import mask_value
from zhili.core.permissions import can_unmask, has_action, restrict


def _require(request, model, action):
    if not has_action(request.user, model, action):
        raise PermissionDenied


def _user_or_404(request, pk, action="change"):
    _require(request, User, action)
    return get_object_or_404(
        restrict(User.objects.filter(deleted_at__isnull=True), request.user, action), pk=pk
    )


def user_list(request):
    _require(request, User, "view")
    qs = restrict(User.objects.filter(deleted_at__isnull=True), request.user, "view").select_related(
        "department"
    )
    q = request.GET.get("q", "").strip()
    status = request.GET.get("status", "")
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(real_name__icontains=q))
    if status in UserStatus.values:
        qs = qs.filter(status=status)
    page = Paginator(qs.order_by("status", "username"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/user_list.html",
        {
            "page": page,
            "q": q,
            "status": status,
            "statuses": UserStatus.choices,
            "pending": restrict(
                User.objects.filter(status=UserStatus.PENDING, deleted_at__isnull=True), request.user, "view"
            ).count(),
            "can_add": has_action(request.user, User, "add"),
        },
    )


def user_detail(request, pk):
    user = _user_or_404(request, pk, "view")
    return render(
        request,
        "accounts/user_detail.html",
        {
            "subject": user,
            "sessions": sessions.active_sessions().filter(user=user),
            "tokens": user.api_tokens.all(),
            "can_change": has_action(request.user, User, "change"),
            "can_delete": has_action(request.user, User, "delete") and user != request.user,
            "roles": list(user.roles.all()) if hasattr(user, "roles") else [],
            "posts": list(user.posts.all()) if hasattr(user, "posts") else [],
            "has_2fa": user.has_second_factor,
            # Personal data is masked unless the role may unmask users (R-10.3-rbac).
            "phone": user.phone
            if can_unmask(request.user, User)
            else mask_value(User._meta.get_field("phone"), user.phone),
        },
    )


def user_edit(request, pk=None):
    if pk is None:
        _require(request, User, "add")
        instance = User(status=UserStatus.ACTIVE)
    else:
        instance = _user_or_404(request, pk, "change")
    form = UserForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            user = form.save(commit=False)
            password = None
            if pk is None:
                from zhili.cli import generate_password

                password = generate_password()
                user.set_password(password)
                user.must_change_password = True
            user.save()
            form.save_posts()
            # The new or changed user must stay inside what the admin may manage (data scope).
            if not restrict(
                User.objects.filter(pk=user.pk), request.user, "change" if pk else "add"
            ).exists():
                transaction.set_rollback(True)
                raise PermissionDenied
        changed = {name: str(form.cleaned_data.get(name)) for name in form.changed_data if name != "phone"}
        audit.emit(
            "user.create" if pk is None else "user.update",
            user=request.user,
            obj=user,
            details={"username": user.username, "changed": changed},
        )
        if password:
            return render(
                request,
                "accounts/user_password.html",
                {"subject": user, "password": password, "created": True},
            )
        messages.success(request, _("The user was saved."))
        return redirect("accounts:user_detail", user.pk)
    return render(
        request,
        "accounts/user_edit.html",
        {"form": form, "subject": instance if pk else None},
        status=400 if request.method == "POST" else 200,
    )


ACTIONS = {
    # action: (permission, allowed from statuses, new status, audit event)
    "approve": ("change", {UserStatus.PENDING, UserStatus.REJECTED}, UserStatus.ACTIVE, "user.approve"),
    "reject": ("change", {UserStatus.PENDING}, UserStatus.REJECTED, "user.reject"),
    "disable": ("change", {UserStatus.ACTIVE}, UserStatus.DISABLED, "user.disable"),
    "enable": ("change", {UserStatus.DISABLED}, UserStatus.ACTIVE, "user.update"),
}


@require_POST
def user_action(request, pk, action):
    if action not in {*ACTIONS, "delete", "reset_password", "unlock", "signout"}:
        raise PermissionDenied
    perm = ACTIONS[action][0] if action in ACTIONS else ("delete" if action == "delete" else "change")
    user = _user_or_404(request, pk, perm)
    if user == request.user and action in {"disable", "delete", "reject"}:
        messages.error(request, _("You cannot do this to your own account."))
        return redirect("accounts:user_detail", user.pk)
    if action in ACTIONS:
        _perm, allowed, new_status, event = ACTIONS[action]
        if user.status not in allowed:
            messages.error(request, _("This action does not apply to an account in this state."))
            return redirect("accounts:user_detail", user.pk)
        old = user.status
        user.status = new_status
        user.save(update_fields=["status"])
        audit.emit(
            event,
            user=request.user,
            obj=user,
            details={"username": user.username, "from": old, "to": new_status},
        )
        if new_status != UserStatus.ACTIVE:
            sessions.end_sessions(user, action, actor=request.user)
        messages.success(
            request, _("The account is now: %(status)s.") % {"status": user.get_status_display()}
        )
    elif action == "delete":
        user.deleted_at = timezone.now()
        user.status = UserStatus.DISABLED
        user.save(update_fields=["deleted_at", "status"])
        sessions.end_sessions(user, "deleted", actor=request.user)
        for token in user.api_tokens.filter(revoked_at__isnull=True):
            revoke_token(token, actor=request.user)
        audit.emit(
            "user.delete", user=request.user, obj=user, details={"username": user.username, "soft": True}
        )
        messages.success(request, _("The user was deleted (the record is kept for the audit trail)."))
        return redirect("accounts:user_list")
    elif action == "reset_password":
        from zhili.cli import generate_password

        password = generate_password()
        user.set_password(password)
        user.must_change_password = True
        user.failed_logins, user.locked_until = 0, None
        user.save()
        sessions.end_sessions(user, "password_reset", actor=request.user)
        audit.emit("auth.password_reset", user=request.user, obj=user, details={"username": user.username})
        return render(request, "accounts/user_password.html", {"subject": user, "password": password})
    elif action == "unlock":
        User.objects.filter(pk=user.pk).update(failed_logins=0, locked_until=None)
        audit.emit(
            "user.update", user=request.user, obj=user, details={"username": user.username, "unlocked": True}
        )
        messages.success(request, _("The account was unlocked."))
    elif action == "signout":
        ended = sessions.end_sessions(user, "forced", actor=request.user)
        messages.success(request, _("%(n)d sessions were signed out.") % {"n": ended})
    return redirect("accounts:user_detail", user.pk)


def online_users(request):
    """在线用户: active sessions, with force sign-out."""
    _require(request, UserSession, "view")
    rows = sessions.active_sessions().filter(user__in=restrict(User.objects.all(), request.user, "view"))
    return render(
        request,
        "accounts/online_users.html",
        {"rows": rows, "can_end": has_action(request.user, UserSession, "delete")},
    )


@require_POST
def online_user_end(request, pk):
    _require(request, UserSession, "delete")
    row = get_object_or_404(
        UserSession.objects.filter(user__in=restrict(User.objects.all(), request.user, "view")), pk=pk
    )
    sessions.end_sessions(
        row.user, "forced", actor=request.user, queryset=UserSession.objects.filter(pk=row.pk)
    )
    messages.success(request, _("The session was signed out."))
    return redirect("accounts:online_users")


def token_list(request):
    _require(request, ApiToken, "view")
    tokens = ApiToken.objects.filter(
        user__in=restrict(User.objects.all(), request.user, "view")
    ).select_related("user")
    page = Paginator(tokens, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "accounts/token_list.html",
        {"page": page, "can_revoke": has_action(request.user, ApiToken, "change")},
    )


@require_POST
def token_admin_revoke(request, pk):
    _require(request, ApiToken, "change")
    token = get_object_or_404(
        ApiToken.objects.filter(user__in=restrict(User.objects.all(), request.user, "view")), pk=pk
    )
    if token.revoked_at is None:
        revoke_token(token, actor=request.user)
        messages.success(request, _("The token was revoked."))
    return redirect("accounts:token_list")
