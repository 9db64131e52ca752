from django.urls import path

from zhili.accounts import views, views_admin
from zhili.accounts.models import IpRule
from zhili.core.urls import model_urls

app_name = "accounts"
urlpatterns = [
    path("login/", views.sign_in, name="login"),
    path("login/captcha.png", views.captcha_image, name="captcha"),
    path("login/verify/", views.verify, name="verify"),
    path("login/verify/key/begin/", views.webauthn_login_begin, name="webauthn_login_begin"),
    path("login/verify/key/", views.webauthn_login_finish, name="webauthn_login"),
    path("login/certificate/", views.certificate_sign_in, name="certificate_login"),
    path("logout/", views.sign_out, name="logout"),
    path("register/", views.register, name="register"),
    path("profile/", views.profile, name="profile"),
    path("password/", views.password_change, name="password_change"),
    path("sessions/<int:pk>/end/", views.session_end, name="session_end"),
    path("sessions/end-all/", views.sessions_end_all, name="sessions_end_all"),
    path("2fa/", views.twofactor_page, name="twofactor"),
    path("2fa/totp/", views.totp_setup, name="totp_setup"),
    path("2fa/totp/remove/", views.totp_disable, name="totp_disable"),
    path("2fa/recovery-codes/", views.recovery_codes_new, name="recovery_codes"),
    path("2fa/keys/begin/", views.webauthn_register_begin, name="webauthn_register_begin"),
    path("2fa/keys/", views.webauthn_register, name="webauthn_register"),
    path("2fa/keys/<int:pk>/remove/", views.webauthn_delete, name="webauthn_delete"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
    # Administration
    path("users/", views_admin.user_list, name="user_list"),
    path("users/new/", views_admin.user_edit, name="user_add"),
    path("users/<int:pk>/", views_admin.user_detail, name="user_detail"),
    path("users/<int:pk>/edit/", views_admin.user_edit, name="user_edit"),
    path("users/<int:pk>/<slug:action>/", views_admin.user_action, name="user_action"),
    path("online/", views_admin.online_users, name="online_users"),
    path("online/<int:pk>/end/", views_admin.online_user_end, name="online_user_end"),
    path("tokens/", views_admin.token_list, name="token_list"),
    path("tokens/<int:pk>/admin-revoke/", views_admin.token_admin_revoke, name="token_admin_revoke"),
    *model_urls(IpRule),
]
