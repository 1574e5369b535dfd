"""Deployment checks of our own, next to Django's (`manage.py check --deploy`)."""

from django.conf import settings
from django.core import checks

from anonmsg.secret_key import is_known_key


@checks.register(checks.Tags.security, deploy=True)
def secret_key_is_not_public(app_configs=None, **kwargs):
    # Django's own check (security.W009) only knows its `django-insecure-` prefix; the
    # settings refuse a known key unless DEBUG is on, so this is what catches it then.
    if is_known_key(settings.SECRET_KEY):
        return [
            checks.Error(
                "SECRET_KEY is a publicly known key: anyone can forge sessions, CSRF tokens "
                "and preview tokens with it.",
                hint="Set SECRET_KEY to 50+ random characters: "
                "python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
                id="anonmsg.E001",
            )
        ]
    return []
