from django.urls import path

from zhili.audit import views

app_name = "audit"
urlpatterns = [
    path("", views.event_list, name="event_list"),
    path("login-log/", views.event_list, {"kind": "login"}, name="login_log"),
    path("operation-log/", views.event_list, {"kind": "operation"}, name="operation_log"),
    path("export/", views.export, name="export"),
    path("login-log/export/", views.export, {"kind": "login"}, name="login_log_export"),
    path("operation-log/export/", views.export, {"kind": "operation"}, name="operation_log_export"),
    path("verify/", views.verify_view, name="verify"),
]
