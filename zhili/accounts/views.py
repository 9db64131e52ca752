"""Sign-in (password, captcha, lockout, second factor), registration, profile, sessions and tokens."""

import json
import time
from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from zhili.accounts import captcha, guard, sessions, twofactor
from zhili.accounts.conf import auth_setting
from zhili.accounts.forms import ChangePasswordForm, OtpForm, RegistrationForm, SignInForm, TokenForm
from zhili.accounts.models import ApiToken, User, UserStatus
from zhili.accounts.tokens import create_token, revoke_token
from zhili.core import audit
from zhili.core.middleware import client_ip

PARTIAL = "zhili_partial_auth"
CAPTCHA_FLAG = "zhili_captcha_needed"
BACKEND = "zhili.accounts.backends.AccountBackend"

STATUS_MESSAGES = {
    UserStatus.PENDING: gettext_noop("Your registration is waiting for review by an administrator."),
    UserStatus.REJECTED: gettext_noop("Your registration was rejected. Contact the administrator."),
    UserStatus.DISABLED: gettext_noop("This account is disabled. Contact the administrator."),
}


def safe_next(request, target: str | None) -> str:
    """The ``next`` target if it stays on this site, else the home page (no open redirect)."""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


def _failed(request, username: str, reason: str, user=None) -> None:
    ip = client_ip(request)
    guard.record_attempt(username, ip, request.META.get("HTTP_USER_AGENT", ""), success=False, reason=reason)
    audit.emit(
        "auth.login_failed",
        user=None,
        obj=user,
        success=False,
        details={"username": username[:150], "reason": reason},
    )
    # Failures in this browser session (whatever the username) also bring the captcha.
    request.session[CAPTCHA_FLAG] = int(request.session.get(CAPTCHA_FLAG, 0)) + 1


def complete_login(request, user, method: str, target: str | None = None):
    """Finish a sign-in whose every factor has been checked."""
    request.session.pop(PARTIAL, None)
    request.zhili_auth_method = method
    login(request, user, backend=BACKEND)
    if method != "password":
        request.session[sessions.MFA_CHECKED] = True
    return redirect(safe_next(request, target))


def _captcha_needed(request, username: str, ip: str) -> bool:
    threshold = auth_setting("CAPTCHA_AFTER_FAILURES")
    session_failures = int(request.session.get(CAPTCHA_FLAG, 0))
    return (threshold > 0 and session_failures >= threshold) or guard.captcha_required(username, ip)


@login_not_required
@never_cache
def sign_in(request):
    if request.user.is_authenticated:
        return redirect(safe_next(request, request.GET.get("next")))
    ip = client_ip(request)
    form = SignInForm(request.POST or None)
    next_url = request.POST.get("next") or request.GET.get("next", "")
    error, status = None, 200
    # NUL characters are refused by PostgreSQL in text: drop them before any query.
    username = (request.POST.get("username") or "").replace("\x00", "").strip()[:150]
    if request.method == "POST":
        status = 200  # the form again, with the reason (as Django's LoginView)
        user = User.objects.filter(username=username).first() if username else None
        if not guard.ip_allowed(ip):
            _failed(request, username, "ip_denied", user)
            error, status = _("Sign-in is not allowed from your network address."), 403
        elif guard.ip_throttled(ip):
            _failed(request, username, "ip_throttled", user)
            error, status = _("Too many failed sign-ins from your address. Try again later."), 429
        elif not form.is_valid():
            error = _("Enter your username and password.")
        elif _captcha_needed(request, username, ip) and not captcha.check(
            request.session, form.cleaned_data["captcha"]
        ):
            _failed(request, username, "captcha", user)
            error = _("The verification code is wrong or expired: type the characters in the new picture.")
        elif user is not None and user.is_locked:
            _failed(request, username, "locked", user)
            minutes = max(1, int((user.locked_until - timezone.now()).total_seconds() // 60) + 1)
            error = _("This account is locked after repeated failures. Try again in %(n)d minutes.") % {
                "n": minutes
            }
        else:
            password = form.cleaned_data["password"]
            authenticated = authenticate(request, username=username, password=password)
            if (
                authenticated is None
                and user is not None
                and not user.is_active
                and user.check_password(password)
            ):
                reason = "deleted" if user.deleted_at else user.status
                _failed(request, username, reason, user)
                error = _(STATUS_MESSAGES.get(user.status, STATUS_MESSAGES[UserStatus.DISABLED]))
            elif authenticated is None:
                locked = guard.register_failure(user) if user is not None else False
                _failed(request, username, "bad_password", user)
                error = (
                    _("Too many failures: the account is locked for %(n)d minutes.")
                    % {"n": auth_setting("LOCKOUT_MINUTES")}
                    if locked
                    else _("Wrong username or password.")
                )
            else:
                guard.clear_failures(authenticated)
                guard.record_attempt(
                    username, ip, request.META.get("HTTP_USER_AGENT", ""), success=True, reason="password"
                )
                request.session.pop(CAPTCHA_FLAG, None)
                if authenticated.has_second_factor:
                    request.session.cycle_key()
                    request.session[PARTIAL] = {"user": authenticated.pk, "at": time.time(), "next": next_url}
                    return redirect("accounts:verify")
                return complete_login(request, authenticated, "password", next_url)
    show_captcha = _captcha_needed(request, username, ip)
    return render(
        request,
        "accounts/login.html",
        {
            "form": form,
            "error": error,
            "next": next_url,
            "show_captcha": show_captcha,
            "self_registration": auth_setting("SELF_REGISTRATION"),
            "client_cert": bool(auth_setting("CLIENT_CERT_HEADER")),
        },
        status=status,
    )


@login_not_required
@never_cache
def captcha_image(request):
    text = captcha.new_challenge(request.session)
    response = HttpResponse(captcha.render_png(text), content_type="image/png")
    response["Cache-Control"] = "no-store"
    return response


def _partial_user(request):
    """The user who passed the password step and still owes a second factor, or None."""
    data = request.session.get(PARTIAL)
    if not data or time.time() - data.get("at", 0) > auth_setting("PARTIAL_AUTH_MINUTES") * 60:
        request.session.pop(PARTIAL, None)
        return None
    return User.objects.filter(pk=data["user"], is_active=True).first()


def _second_factor_failed(request, user, method: str):
    audit.emit(
        "auth.2fa_failed",
        user=None,
        obj=user,
        success=False,
        details={"username": user.username, "method": method},
    )
    guard.record_attempt(
        user.username,
        client_ip(request),
        request.META.get("HTTP_USER_AGENT", ""),
        success=False,
        reason="2fa",
    )
    if guard.register_failure(user):
        request.session.pop(PARTIAL, None)
        return True
    return False


@login_not_required
@never_cache
def verify(request):
    """Second sign-in step: TOTP code, recovery code, or a security key (see webauthn.js)."""
    user = _partial_user(request)
    if user is None:
        messages.warning(request, _("Sign in with your password first."))
        return redirect("accounts:login")
    form = OtpForm(request.POST or None)
    error = None
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        device = getattr(user, "totp_device", None) if hasattr(user, "totp_device") else None
        if device is not None and device.confirmed and twofactor.verify_totp(device, code):
            return complete_login(request, user, "totp", request.session[PARTIAL].get("next"))
        if twofactor.use_recovery_code(user, code):
            audit.emit(
                "auth.recovery_code_used",
                user=user,
                details={"left": twofactor.remaining_recovery_codes(user)},
            )
            return complete_login(request, user, "recovery_code", request.session[PARTIAL].get("next"))
        if _second_factor_failed(request, user, "totp"):
            messages.error(
                request,
                _("Too many failures: the account is locked for %(n)d minutes.")
                % {"n": auth_setting("LOCKOUT_MINUTES")},
            )
            return redirect("accounts:login")
        error = _("The code is wrong, expired or already used.")
    return render(
        request,
        "accounts/verify.html",
        {
            "form": form,
            "error": error,
            "partial_user": user,
            "has_totp": hasattr(user, "totp_device") and user.totp_device.confirmed,
            "has_keys": user.webauthn_credentials.exists(),
        },
        status=400 if error else 200,
    )


@login_not_required
@require_POST
def webauthn_login_begin(request):
    user = _partial_user(request)
    if user is None:
        return JsonResponse({"detail": _("Sign in with your password first.")}, status=403)
    return HttpResponse(twofactor.authentication_options(request, user), content_type="application/json")


@login_not_required
@require_POST
def webauthn_login_finish(request):
    user = _partial_user(request)
    if user is None:
        return JsonResponse({"detail": _("Sign in with your password first.")}, status=403)
    try:
        twofactor.authenticate_credential(request, user, request.body.decode())
    except Exception:  # any verification error of the webauthn package, or malformed input
        _second_factor_failed(request, user, "webauthn")
        return JsonResponse({"detail": _("The security key could not be verified.")}, status=400)
    response = complete_login(request, user, "webauthn", request.session[PARTIAL].get("next"))
    return JsonResponse({"redirect": response.url})


@login_not_required
@never_cache
def certificate_sign_in(request):
    """Sign in with a client certificate verified by the TLS proxy (R-10.3-ca; off by default)."""
    header = auth_setting("CLIENT_CERT_HEADER")
    if not header:
        return HttpResponseForbidden(_("Certificate sign-in is not enabled."))
    meta_name = "HTTP_" + header.upper().replace("-", "_")
    verify_header = auth_setting("CLIENT_CERT_VERIFY_HEADER")
    if verify_header and request.META.get("HTTP_" + verify_header.upper().replace("-", "_")) != "SUCCESS":
        return HttpResponseForbidden(_("No verified client certificate was presented."))
    subject = request.META.get(meta_name, "")
    username = ""
    for part in subject.replace("/", ",").split(","):
        key, _sep, value = part.strip().partition("=")
        if key.upper() == "CN":
            username = value.strip()
    user = User.objects.filter(username=username, is_active=True).first() if username else None
    if user is None or user.is_locked or not guard.ip_allowed(client_ip(request)):
        _failed(request, username or subject[:150], "certificate")
        return HttpResponseForbidden(_("The certificate does not belong to an active account."))
    guard.record_attempt(
        username,
        client_ip(request),
        request.META.get("HTTP_USER_AGENT", ""),
        success=True,
        reason="certificate",
    )
    if user.has_second_factor:
        request.session.cycle_key()
        request.session[PARTIAL] = {"user": user.pk, "at": time.time(), "next": request.GET.get("next", "")}
        return redirect("accounts:verify")
    return complete_login(request, user, "certificate", request.GET.get("next"))


@require_POST
def sign_out(request):
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


@login_not_required
@never_cache
def register(request):
    if not auth_setting("SELF_REGISTRATION"):
        return HttpResponseForbidden(_("Self-registration is disabled."))
    form = RegistrationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save(commit=False)
        user.status = UserStatus.PENDING
        user.set_password(form.cleaned_data["password1"])
        user.save()
        audit.emit(
            "user.create", user=None, obj=user, details={"username": user.username, "self_registered": True}
        )
        _notify_reviewers(user)
        return render(request, "accounts/register_done.html", {"new_user": user})
    return render(
        request, "accounts/register.html", {"form": form}, status=400 if request.method == "POST" else 200
    )


def _notify_reviewers(new_user) -> None:
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    from zhili.core.notices import notify

    perm = Permission.objects.filter(codename="change_user", content_type__app_label="accounts").first()
    reviewers = User.objects.filter(is_active=True).filter(
        Q(is_superuser=True) | Q(user_permissions=perm) | Q(groups__permissions=perm)
    )
    if hasattr(User, "roles"):
        reviewers = reviewers | User.objects.filter(is_active=True, roles__permissions=perm)
    notify(
        list(reviewers.distinct()),
        _("New registration waiting for review: %(name)s")
        % {"name": new_user.real_name or new_user.username},
        url=reverse("accounts:user_detail", args=[new_user.pk]),
        category="security",
        obj=new_user,
    )


def password_change(request):
    form = ChangePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        user.must_change_password = False
        user.save(update_fields=["must_change_password"])
        update_session_auth_hash(request, user)
        sessions.start(request, user)  # the key changed: keep tracking this session
        audit.emit("auth.password_change", user=user)
        ended = sessions.end_sessions(user, "password_change", except_request=request)
        messages.success(request, _("Your password has been changed."))
        if ended:
            messages.info(request, _("Your other sessions were signed out."))
        return redirect("accounts:profile")
    return render(
        request,
        "accounts/password_change.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )


def profile(request):
    user = request.user
    current = sessions.key_digest(request.session.session_key or "")
    user_sessions = sessions.active_sessions().filter(user=user)
    return render(
        request,
        "accounts/profile.html",
        {
            "profile_user": user,
            "sessions": user_sessions,
            "current_digest": current,
            "totp": getattr(user, "totp_device", None) if hasattr(user, "totp_device") else None,
            "keys": user.webauthn_credentials.all(),
            "recovery_left": twofactor.remaining_recovery_codes(user),
            "tokens": user.api_tokens.all(),
            "token_form": TokenForm(),
            "roles": list(user.roles.all()) if hasattr(user, "roles") else [],
            "posts": list(user.posts.all()) if hasattr(user, "posts") else [],
            "requires_2fa": user.requires_second_factor,
        },
    )


@require_POST
def session_end(request, pk):
    from zhili.accounts.models import UserSession

    row = get_object_or_404(UserSession, pk=pk, user=request.user)
    sessions.end_sessions(request.user, "revoked", queryset=UserSession.objects.filter(pk=row.pk))
    messages.success(request, _("The session was signed out."))
    return redirect("accounts:profile")


@require_POST
def sessions_end_all(request):
    """Sign out everywhere, this browser included."""
    sessions.end_sessions(request.user, "sign_out_everywhere")
    request.zhili_logout_reason = "sign_out_everywhere"
    logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Two-factor enrolment -------------------------------------------------------------------------


def twofactor_page(request):
    """Set up or remove second factors (also where a role's 2FA requirement sends the user)."""
    user = request.user
    device = getattr(user, "totp_device", None) if hasattr(user, "totp_device") else None
    context = {
        "totp": device if device and device.confirmed else None,
        "keys": user.webauthn_credentials.all(),
        "recovery_left": twofactor.remaining_recovery_codes(user),
        "requires_2fa": user.requires_second_factor,
        "has_factor": user.has_second_factor,
    }
    return render(request, "accounts/twofactor.html", context)


@never_cache
def totp_setup(request):
    user = request.user
    if hasattr(user, "totp_device") and user.totp_device.confirmed and request.method == "GET":
        messages.info(request, _("An authenticator app is already set up."))
        return redirect("accounts:twofactor")
    form = OtpForm(request.POST or None)
    if request.method == "POST":
        device = getattr(user, "totp_device", None) if hasattr(user, "totp_device") else None
        if (
            device is not None
            and not device.confirmed
            and form.is_valid()
            and twofactor.verify_totp(device, form.cleaned_data["code"])
        ):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            codes = twofactor.new_recovery_codes(user)
            audit.emit("auth.2fa_enabled", user=user, details={"method": "totp"})
            request.session[sessions.MFA_CHECKED] = True
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        form.add_error("code", _("The code is wrong: check the time of your phone and try the newest code."))
    else:
        device = twofactor.new_totp_device(user)
    uri = twofactor.provisioning_uri(device)
    return render(
        request,
        "accounts/totp_setup.html",
        {"form": form, "qr": twofactor.qr_svg(uri), "secret": device.secret},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def totp_disable(request):
    if request.user.requires_second_factor and not request.user.webauthn_credentials.exists():
        messages.error(
            request, _("Your role requires two-factor sign-in: add a security key before removing the app.")
        )
        return redirect("accounts:twofactor")
    from zhili.accounts.models import TotpDevice

    if TotpDevice.objects.filter(user=request.user).delete()[0]:
        request.user.recovery_codes.all().delete()
        audit.emit("auth.2fa_disabled", user=request.user, details={"method": "totp"})
        messages.success(request, _("The authenticator app was removed."))
    return redirect("accounts:twofactor")


@require_POST
def recovery_codes_new(request):
    if not request.user.has_second_factor:
        return redirect("accounts:twofactor")
    codes = twofactor.new_recovery_codes(request.user)
    audit.emit("auth.2fa_enabled", user=request.user, details={"method": "recovery_codes", "renewed": True})
    return render(request, "accounts/recovery_codes.html", {"codes": codes})


@require_POST
def webauthn_register_begin(request):
    return HttpResponse(
        twofactor.registration_options(request, request.user), content_type="application/json"
    )


@require_POST
def webauthn_register(request):
    try:
        payload = json.loads(request.body.decode())
        credential = twofactor.register_credential(
            request, request.user, payload["credential"], str(payload.get("name", ""))[:100]
        )
    except Exception:  # verification errors of the webauthn package, or malformed input
        return JsonResponse({"detail": _("The security key could not be registered.")}, status=400)
    if not request.user.recovery_codes.exists():
        twofactor.new_recovery_codes(request.user)  # shown on request from the 2FA page
    audit.emit(
        "auth.2fa_enabled",
        user=request.user,
        obj=credential,
        details={"method": "webauthn", "name": credential.name},
    )
    request.session[sessions.MFA_CHECKED] = True
    return JsonResponse({"redirect": reverse("accounts:twofactor")})


@require_POST
def webauthn_delete(request, pk):
    credential = get_object_or_404(request.user.webauthn_credentials, pk=pk)
    others = request.user.webauthn_credentials.exclude(pk=pk).exists() or (
        hasattr(request.user, "totp_device") and request.user.totp_device.confirmed
    )
    if request.user.requires_second_factor and not others:
        messages.error(request, _("Your role requires two-factor sign-in: keep at least one second factor."))
        return redirect("accounts:twofactor")
    credential.delete()
    audit.emit(
        "auth.2fa_disabled", user=request.user, details={"method": "webauthn", "name": credential.name}
    )
    return redirect("accounts:twofactor")


# --- API tokens of the signed-in user -------------------------------------------------------------


@require_POST
def token_create(request):
    form = TokenForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
        return redirect("accounts:profile")
    days = form.cleaned_data.get("expires_days")
    _token, raw = create_token(
        request.user,
        form.cleaned_data["name"],
        scopes=form.cleaned_data["scopes"],
        expires_at=timezone.now() + timedelta(days=days) if days else None,
    )
    return render(request, "accounts/token_created.html", {"raw_key": raw, "token": _token})


@require_POST
def token_revoke(request, pk):
    token = get_object_or_404(ApiToken, pk=pk, user=request.user)
    if token.revoked_at is None:
        revoke_token(token, actor=request.user)
        messages.success(request, _("The token was revoked."))
    return redirect("accounts:profile")
