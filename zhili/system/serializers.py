"""API serializers of the system app."""

from rest_framework import serializers

from zhili.core.api.serializers import ModelSerializer
from zhili.core.models import BaseModel
from zhili.system.models import Role, duty_conflicts, separation_error


class RoleSerializer(ModelSerializer):
    class Meta:
        model = Role
        fields = [
            "id",
            "display",
            "name",
            "code",
            "description",
            "duty",
            "data_scope",
            "custom_units",
            "custom_grids",
            "require_2fa",
            "builtin",
            "permissions",
            "users",
            *BaseModel.BASE_FIELDS,
        ]
        read_only_fields = ["builtin", *[f for f in BaseModel.BASE_FIELDS if f != "owner_unit"]]

    def validate(self, attrs):
        attrs = super().validate(attrs)
        duty = attrs.get("duty", getattr(self.instance, "duty", "none"))
        users = attrs.get("users")
        if users is None and self.instance is not None:
            users = list(self.instance.users.all())
        conflicts = duty_conflicts(duty, users or [], exclude_role=self.instance)
        if conflicts:
            raise serializers.ValidationError({"users": separation_error(conflicts).messages})
        return attrs
