"""Login: e-mail addresses are typed in any case, so user names match case-insensitively.

Repeated failures lock out a (user name, IP) pair for a while: django-axes counts them (see the
AXES_* settings); this module tells it how we spell user names and what a locked-out user sees.
"""

import math

from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import add_never_cache_headers

from anonmsg.demo import DEMO_EMAIL


class CaseInsensitiveUsernameBackend(ModelBackend):
    def user_can_authenticate(self, user):
        # The demo login's password is public: it exists for development only, and a database
        # seeded by `make run` and then served in production mode must not let it in.
        if settings.PRODUCTION and user.get_username().lower() == DEMO_EMAIL:
            return False
        return super().user_can_authenticate(user)

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


def login_attempt_username(request, credentials=None) -> str | None:
    """The user name failures are counted under (AXES_USERNAME_CALLABLE).

    Spelled the way the backend matches it, so " Ann@X.test" and "ann@x.test" share one count:
    otherwise every change of case would be five more guesses.
    """
    if credentials is not None:
        username = credentials.get("username")
    else:
        username = request.POST.get("username")
    if not isinstance(username, str) or not username.strip():
        return None
    # The attempt table's column holds 255 characters; PostgreSQL refuses NUL in text.
    return username.strip().lower().replace("\x00", "")[:255]


def lockout_unlocks_at(request, credentials=None):
    """When the lockout of this request's (user name, IP) ends."""
    last_failure = AccessAttempt.objects.filter(
        username=login_attempt_username(request, credentials),
        ip_address=getattr(request, "axes_ip_address", None),
    ).aggregate(last=Max("attempt_time"))["last"]
    return (last_failure or timezone.now()) + get_cool_off(request)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets instead of the form (AXES_LOCKOUT_CALLABLE): 429."""
    unlocks_at = lockout_unlocks_at(request, credentials)
    seconds = max(1, math.ceil((unlocks_at - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/locked_out.html",
        {
            "username": login_attempt_username(request, credentials) or "",
            "failure_limit": settings.AXES_FAILURE_LIMIT,
            "unlocks_at": unlocks_at,
            "minutes": math.ceil(seconds / 60),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=429,
    )
    response["Retry-After"] = str(seconds)
    add_never_cache_headers(response)
    return response
