from django.contrib.auth.forms import AuthenticationForm, PasswordChangeForm

from zhili.core.forms import BootstrapMixin


class SignInForm(BootstrapMixin, AuthenticationForm):
    pass


class ChangePasswordForm(BootstrapMixin, PasswordChangeForm):
    pass
