from django import forms
from django.contrib.auth.forms import PasswordChangeForm
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.utils.translation import gettext_lazy as _

from zhili.accounts.models import User
from zhili.accounts.tokens import SCOPE_CHOICES
from zhili.core.forms import BootstrapMixin


class SignInForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label=_("Username"), max_length=150)
    password = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    captcha = forms.CharField(label=_("Verification code"), max_length=10, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].widget.attrs.update(autofocus=True, autocomplete="username")
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
        self.fields["captcha"].widget.attrs.update(autocomplete="off", inputmode="text")


class ChangePasswordForm(BootstrapMixin, PasswordChangeForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_validators_help_text_html()


class OtpForm(BootstrapMixin, forms.Form):
    code = forms.CharField(label=_("Code"), max_length=40)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.update(autocomplete="one-time-code", autofocus=True)


class RegistrationForm(BootstrapMixin, forms.ModelForm):
    """Self-registration: the account waits for review (待审核) before it can sign in."""

    password1 = forms.CharField(label=_("Password"), strip=False, widget=forms.PasswordInput)
    password2 = forms.CharField(label=_("Password again"), strip=False, widget=forms.PasswordInput)

    class Meta:
        model = User
        fields = ["username", "real_name", "phone", "department"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["real_name"].required = True
        self.fields["password1"].help_text = password_validators_help_text_html()

    def clean(self):
        data = super().clean()
        p1, p2 = data.get("password1"), data.get("password2")
        if p1 and p2 and p1 != p2:
            self.add_error("password2", _("The two passwords differ."))
        elif p1:
            candidate = User(username=data.get("username", ""), real_name=data.get("real_name", ""))
            try:
                validate_password(p1, candidate)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return data


class UserForm(BootstrapMixin, forms.ModelForm):
    """Admin creation and editing of a user; passwords are generated, never typed by the admin."""

    posts = forms.ModelMultipleChoiceField(label=_("Posts"), queryset=None, required=False)

    class Meta:
        model = User
        fields = ["username", "real_name", "phone", "email", "department"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["real_name"].required = True
        try:
            from zhili.system.models import Post
        except ImportError:  # the system app is optional for this form
            del self.fields["posts"]
        else:
            self.fields["posts"].queryset = Post.objects.filter(is_active=True)
            self.fields["posts"].widget.attrs["class"] = "form-select"
            if self.instance.pk:
                self.initial["posts"] = list(self.instance.posts.values_list("pk", flat=True))

    def save_posts(self):
        if "posts" in self.fields:
            self.instance.posts.set(self.cleaned_data.get("posts") or [])


class TokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"), choices=(), widget=forms.CheckboxSelectMultiple, initial=["read"]
    )
    expires_days = forms.IntegerField(
        label=_("Valid for (days)"), min_value=1, max_value=3650, initial=90, required=False
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = SCOPE_CHOICES()
        self.fields["scopes"].widget.attrs = {}


class KeyNameForm(forms.Form):
    name = forms.CharField(max_length=100)
    credential = forms.CharField(max_length=20000)
