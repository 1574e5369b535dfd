"""The invitation link: the invitee's side (public pages; the admin's side is in views.py).

Each request works out the step from the invitation and who is logged in
(invitation_steps.next_step), so a stale tab or a replayed POST just shows the current step.
"""

from django.contrib import messages
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from anonmsg import invitations
from anonmsg.forms import SignUpForm
from anonmsg.invitation_steps import DEAD_END_STATUS, Step, next_step
from anonmsg.models import Role

# The backend that new accounts log in through (the lockout backend needs a password).
_LOGIN_BACKEND = "anonmsg.auth.CaseInsensitiveUsernameBackend"


def _step(request, invitation) -> Step:
    if invitation is None:
        return next_step(state=None, invited_email="", account_exists=False, username=None)
    user = request.user
    return next_step(
        state=invitation.state(),
        invited_email=invitation.email,
        account_exists=(
            not user.is_authenticated and invitations.account_for(invitation.email) is not None
        ),
        username=user.get_username() if user.is_authenticated else None,
    )


def _page(request, token, invitation, step: Step, *, form=None, status=None):
    if form is None and step == Step.SIGN_UP:
        form = SignUpForm(email=invitation.email)
    # The URL is a secret: the site-wide Referrer-Policy (same-origin) keeps it from other
    # sites. Not "no-referrer" here: Chromium then posts "Origin: null", which fails CSRF.
    return render(
        request,
        "anonmsg/invitation.html",
        {
            "token": token,
            "invitation": invitation,
            "step": step,
            "form": form,
            "lifetime_days": invitations.INVITATION_LIFETIME.days,
        },
        status=status or DEAD_END_STATUS.get(step, 200),
    )


@never_cache
@require_safe
def invitation(request, token):
    found = invitations.find_by_token(token)
    return _page(request, token, found, _step(request, found))


@never_cache
@require_POST
def invitation_accept(request, token):
    found = invitations.find_by_token(token)
    step = _step(request, found)
    if step != Step.ACCEPT:
        return _page(request, token, found, step, status=DEAD_END_STATUS.get(step, 403))
    try:
        membership = invitations.accept(invitation=found, user=request.user)
    except invitations.InvitationUnavailable:
        found.refresh_from_db()
        return _page(request, token, found, _step(request, found))
    return _joined(request, found, membership.role)


@never_cache
@require_POST
def invitation_sign_up(request, token):
    found = invitations.find_by_token(token)
    step = _step(request, found)
    if step != Step.SIGN_UP:
        return _page(request, token, found, step, status=DEAD_END_STATUS.get(step, 409))
    form = SignUpForm(request.POST, email=found.email)
    if form.is_valid():
        try:
            user = invitations.create_account_and_accept(
                invitation=found, password=form.cleaned_data["password1"]
            )
        except ValidationError:
            # The account appeared meanwhile: the page now asks them to log in.
            return _page(request, token, found, _step(request, found), status=409)
        except invitations.InvitationUnavailable:
            found.refresh_from_db()
            return _page(request, token, found, _step(request, found))
        login(request, user, backend=_LOGIN_BACKEND)
        return _joined(request, found, found.role)
    return _page(request, token, found, step, form=form, status=400)


def _joined(request, invitation, role: str):
    as_role = "an admin" if role == Role.ADMIN else "a member"
    messages.success(
        request, f"Welcome to {invitation.workspace.name}: you are {as_role} of this workspace."
    )
    return redirect("workspace-home", workspace_id=invitation.workspace_id)
