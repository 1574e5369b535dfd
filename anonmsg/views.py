from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_htmx.http import HttpResponseClientRedirect

from anonmsg import members
from anonmsg.auth import LoginForm
from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD
from anonmsg.forms import AllowedOriginsForm, InviteForm, RoleForm, WorkspaceForm
from anonmsg.htmx import render_page
from anonmsg.invitations import (
    INVITATION_LIFETIME,
    PENDING_LIMIT,
    invite,
    revoke,
    send_invitation_email,
)
from anonmsg.models import Invitation, Membership, Role, Workspace
from anonmsg.snippet import public_base_url, render_snippet, sdk_script_url
from anonmsg.tenancy import SESSION_KEY, get_for_workspace, workspace_required


@require_safe
@never_cache
def healthz(request):
    """Liveness and database reachability, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


def login(request):
    """Django's login view. Outside production mode the page names the demo login."""
    demo_login = None if settings.PRODUCTION else {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
    view = auth_views.LoginView.as_view(
        authentication_form=LoginForm,
        redirect_authenticated_user=True,
        extra_context={"demo_login": demo_login},
    )
    return view(request)


@login_required
def home(request):
    """Send the user to the workspace they used last, or their first one."""
    workspaces = Workspace.objects.for_user(request.user)
    last_used = request.session.get(SESSION_KEY)
    workspace = (
        workspaces.filter(pk=last_used).first() if isinstance(last_used, int) else None
    ) or workspaces.first()
    if workspace is None:
        return render(request, "anonmsg/no_workspace.html")
    return redirect("workspace-home", workspace_id=workspace.pk)


@workspace_required
def workspace_home(request):
    return redirect("campaigns:message-list", workspace_id=request.workspace.pk)


# --- Settings → In-app --------------------------------------------------------------------


def _inapp_context(request, **extra):
    workspace = request.workspace
    base_url = public_base_url(request)
    return {
        "snippet": render_snippet(base_url=base_url, write_key=workspace.write_key),
        "sdk_url": sdk_script_url(base_url, workspace.write_key),
        "origins_form": AllowedOriginsForm(instance=workspace),
        **extra,
    }


@workspace_required
def settings_inapp(request):
    return render(request, "anonmsg/settings_inapp.html", _inapp_context(request))


@workspace_required(admin=True)
@require_POST
def settings_toggle_inapp(request):
    workspace = request.workspace
    workspace.inapp_enabled = request.POST.get("enabled") == "on"
    workspace.save(update_fields=["inapp_enabled"])
    workspace.bump_content_version()
    if workspace.inapp_enabled:
        messages.success(request, "In-app messages are on: SDKs receive your live messages.")
    else:
        messages.warning(request, "In-app messages are off: SDKs receive no messages.")
    if request.htmx:
        return render(request, "anonmsg/settings_inapp.html#inapp-switch", _inapp_context(request))
    return redirect("settings-inapp", workspace_id=workspace.pk)


@workspace_required(admin=True)
@require_POST
def settings_origins(request):
    form = AllowedOriginsForm(request.POST, instance=request.workspace)
    if form.is_valid():
        form.save()
        messages.success(request, "Allowed origins saved.")
        if not request.htmx:
            return redirect("settings-inapp", workspace_id=request.workspace.pk)
        form = AllowedOriginsForm(instance=request.workspace)
    else:
        # The instance was modified by validation; show the stored origins elsewhere.
        request.workspace.refresh_from_db(fields=["allowed_origins"])
    context = _inapp_context(request, origins_form=form)
    status = 400 if form.errors else 200
    return render_page(
        request, "anonmsg/settings_inapp.html", context, partial="origins", status=status
    )


@workspace_required(admin=True)
@require_POST
def settings_rotate_api_key(request):
    # The secret is shown in this response only: it is stored as a hash and never shown again.
    had_key = bool(request.workspace.api_key_hash)
    secret = request.workspace.rotate_api_key()
    if had_key:
        messages.success(request, "New App API key created. The previous key no longer works.")
    else:
        messages.success(request, "App API key created.")
    response = render(
        request, "anonmsg/settings_inapp.html", _inapp_context(request, new_api_key=secret)
    )
    response["Cache-Control"] = "no-store"
    return response


@workspace_required(admin=True)
@require_POST
def settings_rotate_write_key(request):
    request.workspace.rotate_write_key()
    messages.warning(
        request,
        "New write key created. Put the new snippet on your site and the new key in your apps: "
        "the previous key stops working within a minute.",
    )
    return redirect("settings-inapp", workspace_id=request.workspace.pk)


# --- Settings → General ----------------------------------------------------------------------


def _general_context(request, form=None):
    workspace = request.workspace
    return {
        "form": form or WorkspaceForm(instance=workspace),
        "member_count": workspace.memberships.count(),
    }


@workspace_required
def settings_general(request):
    if request.method == "POST":
        if not request.membership.is_admin:
            messages.error(request, "Only workspace admins can change these settings.")
            return render(
                request, "anonmsg/settings_general.html", _general_context(request), status=403
            )
        form = WorkspaceForm(request.POST, instance=request.workspace)
        if form.is_valid():
            form.save()
            messages.success(request, "Workspace settings saved.")
            return redirect("settings-general", workspace_id=request.workspace.pk)
        request.workspace.refresh_from_db(fields=["name", "time_zone"])
        return render(
            request, "anonmsg/settings_general.html", _general_context(request, form), status=400
        )
    return render(request, "anonmsg/settings_general.html", _general_context(request))


# --- Settings → Members ----------------------------------------------------------------------


def _members_page(request, *, status=200, **extra):
    """The members page, or only its #members region for htmx (which swaps only 2xx)."""
    workspace = request.workspace
    context = {
        "members": workspace.memberships.select_related("user").order_by("user__username"),
        "invite_form": InviteForm(),
        "roles": Role.choices,
        "invitations": (
            workspace.invitations.open().select_related("invited_by").order_by("email")
            if request.membership.is_admin
            else Invitation.objects.none()
        ),
        "lifetime_days": INVITATION_LIFETIME.days,
        "pending_limit": PENDING_LIMIT,
        **extra,
    }
    response = render_page(
        request, "anonmsg/settings_members.html", context, partial="members", status=status
    )
    if "invite_link" in extra:
        # Like a new App API key: the link is in this response only (stored as a hash).
        response["Cache-Control"] = "no-store"
    return response


def _get_membership(request, member_id) -> Membership:
    return get_for_workspace(
        Membership.objects.select_related("user"), request.workspace, pk=member_id
    )


def _member_error(request, membership, error: ValidationError):
    return _members_page(
        request, status=400, error_member_id=membership.pk, member_error=" ".join(error.messages)
    )


@workspace_required
@require_safe
def settings_members(request):
    return _members_page(request)


@workspace_required(admin=True)
@require_POST
def settings_member_invite(request):
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            new = invite(workspace=request.workspace, invited_by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            form.add_error("email", exc)
        else:
            link = public_base_url(request) + reverse("invitation", args=[new.token])
            emailed = None  # this server sends no e-mail
            if settings.ANONMSG_SENDS_EMAIL:
                emailed = send_invitation_email(invitation=new.invitation, link=link)
            # The callout says the same whether or not the address has an account.
            return _members_page(request, invited=new.invitation, invite_link=link, emailed=emailed)
    return _members_page(request, status=400, invite_form=form)


@workspace_required(admin=True)
@require_POST
def settings_member_invitation_revoke(request, invitation_id):
    invitation = get_for_workspace(Invitation, request.workspace, pk=invitation_id)
    if revoke(invitation=invitation):
        messages.success(request, f"The invitation to {invitation.email} was revoked.")
    else:
        messages.info(request, f"The invitation to {invitation.email} was no longer open.")
    if request.htmx:
        return _members_page(request)
    return redirect("settings-members", workspace_id=request.workspace.pk)


@workspace_required(admin=True)
@require_POST
def settings_member_role(request, member_id):
    membership = _get_membership(request, member_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _member_error(request, membership, ValidationError("Choose Admin or Member."))
    try:
        members.change_role(membership=membership, role=form.cleaned_data["role"])
    except ValidationError as exc:
        return _member_error(request, membership, exc)
    if membership.user_id == request.user.pk:
        request.membership.role = membership.role  # the page below shows what they may do now
    messages.success(
        request,
        f"{membership.user.get_username()} is now a {membership.get_role_display().lower()}.",
    )
    if request.htmx:
        return _members_page(request)
    return redirect("settings-members", workspace_id=request.workspace.pk)


@workspace_required(admin=True)
@require_http_methods(["GET", "POST"])
def settings_member_remove(request, member_id):
    membership = _get_membership(request, member_id)
    leaving = membership.user_id == request.user.pk
    if request.method == "GET":  # the confirmation page, for browsers without JavaScript
        return render(
            request,
            "anonmsg/settings_members_remove.html",
            {"member": membership, "leaving": leaving},
        )
    try:
        members.remove_member(membership=membership)
    except ValidationError as exc:
        return _member_error(request, membership, exc)
    if leaving:
        messages.success(request, f"You left {request.workspace.name}.")
        url = reverse("home")
        return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
    messages.success(
        request, f"{membership.user.get_username()} was removed from {request.workspace.name}."
    )
    if request.htmx:
        return _members_page(request)
    return redirect("settings-members", workspace_id=request.workspace.pk)
