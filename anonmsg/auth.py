"""Login: e-mail addresses are typed in any case, so user names match case-insensitively."""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm


class CaseInsensitiveUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None or password is None:
            return None
        User = get_user_model()
        matches = list(User._default_manager.filter(username__iexact=username.strip())[:2])
        if len(matches) != 1:
            # Unknown, or two accounts differing only in case: only the exact name logs in.
            return super().authenticate(request, username=username, password=password, **kwargs)
        user = matches[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None


class LoginForm(AuthenticationForm):
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "This e-mail and password do not match an account. Check both and try again "
            "(the password is case-sensitive)."
        ),
        "inactive": "This account is disabled. Ask a workspace admin to re-enable it.",
    }
