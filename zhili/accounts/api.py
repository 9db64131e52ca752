"""Read-only REST API of users (``/api/accounts/users/``) for systems that sync staff lists (R-4.4).

Writes (creation, review, reset) stay in the UI, where one-time passwords are shown to a person.
The phone number is left out: it is personal data that no integration has needed so far.
"""

from rest_framework import mixins, serializers, viewsets
from rest_framework.permissions import BasePermission

from zhili.accounts.models import User
from zhili.core.permissions import has_action, restrict


class UserSerializer(serializers.ModelSerializer):
    posts = serializers.SerializerMethodField()
    roles = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "username",
            "real_name",
            "department",
            "status",
            "is_active",
            "last_login",
            "date_joined",
            "posts",
            "roles",
        ]
        read_only_fields = fields

    def get_posts(self, obj) -> list[int]:
        return [p.pk for p in obj.posts.all()] if hasattr(obj, "posts") else []

    def get_roles(self, obj) -> list[int]:
        return [r.pk for r in obj.roles.all()] if hasattr(obj, "roles") else []


class CanViewUsers(BasePermission):
    def has_permission(self, request, view):
        return has_action(request.user, User, "view")


class UserViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = UserSerializer
    permission_classes = [CanViewUsers]
    filterset_fields = ["status", "department"]
    search_fields = ["username", "real_name"]
    ordering_fields = ["username", "date_joined", "last_login"]

    def get_queryset(self):
        qs = User.objects.filter(deleted_at__isnull=True).order_by("username")
        qs = qs.prefetch_related(*[n for n in ("posts", "roles") if hasattr(User, n)])
        return restrict(qs, self.request.user, "view")


def urls():
    from rest_framework.routers import SimpleRouter

    router = SimpleRouter()
    router.register("users", UserViewSet, basename="accounts-user")
    return router.urls
