"""API permission: the HTTP method (or named action) maps to a model action checked by ``has_action``."""

from rest_framework.permissions import BasePermission

from zhili.core.permissions import has_action

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "add",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


class ActionPermission(BasePermission):
    """Allow a request when the user holds the action on the viewset's model.

    Object-level access needs nothing more: viewsets only ever read through ``restrict``.
    """

    def has_permission(self, request, view):
        user = request.user
        if not user or not user.is_authenticated:
            return False
        model = getattr(view, "model", None)
        if model is None:
            return True
        action = getattr(view, "model_action", None) or METHOD_ACTIONS.get(request.method, "view")
        if has_action(user, model, action):
            return True
        self.message = f"You may not {action} {model._meta.verbose_name_plural}."
        return False
