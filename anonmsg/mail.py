"""The e-mail backend of a production server that has no mail server configured.

Invitations still work: the dashboard shows the admin the link to send themselves
(settings.ANONMSG_SENDS_EMAIL is False, so nothing is handed to this backend for them). Anything
else that tries to send is logged, not lost silently. Not Django's dummy backend, which
`check --deploy` rightly calls development-only (mail.E001): here "no e-mail" is the operator's
configuration, stated in docs/configuration.md.
"""

import logging

from django.core.mail.backends.base import BaseEmailBackend

logger = logging.getLogger(__name__)


class NoMailServerBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        for message in email_messages:
            logger.warning(
                "No mail server is configured (EMAIL_URL or EMAIL_HOST): not sent: %r",
                message.subject,
            )
        return 0
