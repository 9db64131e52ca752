"""Forms of the system app: the role form enforces separation of duties (三员分立)."""

from django import forms

from zhili.core.forms import ModelForm
from zhili.system.models import Role, duty_conflicts, separation_error


class RoleForm(ModelForm):
    class Meta:
        model = Role
        fields = [
            "name",
            "code",
            "description",
            "duty",
            "data_scope",
            "custom_units",
            "custom_grids",
            "require_2fa",
            "permissions",
            "users",
        ]
        widgets = {"permissions": forms.SelectMultiple(attrs={"size": 16})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["permissions"].queryset = self.fields["permissions"].queryset.select_related(
            "content_type"
        )

    def clean(self):
        data = super().clean()
        users = data.get("users") or []
        conflicts = duty_conflicts(data.get("duty") or "none", users, exclude_role=self.instance)
        if conflicts:
            self.add_error("users", separation_error(conflicts))
        return data
