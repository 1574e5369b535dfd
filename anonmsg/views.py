from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from anonmsg.forms import AllowedOriginsForm
from anonmsg.models import Workspace
from anonmsg.snippet import public_base_url, render_snippet, sdk_script_url
from anonmsg.tenancy import SESSION_KEY, workspace_required


@require_GET
def healthz(request):
    """Liveness and database reachability, for load balancers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return JsonResponse({"status": "database unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


@login_required
def home(request):
    """Send the user to the workspace they used last, or their first one."""
    workspaces = Workspace.objects.for_user(request.user)
    workspace = workspaces.filter(pk=request.session.get(SESSION_KEY)).first() or workspaces.first()
    if workspace is None:
        return render(request, "anonmsg/no_workspace.html")
    return redirect("workspace-home", workspace_id=workspace.pk)


@workspace_required
def workspace_home(request):
    return redirect("campaigns:message-list", workspace_id=request.workspace.pk)


def _settings_context(request, **extra):
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
    return render(request, "anonmsg/settings_inapp.html", _settings_context(request))


@require_POST
@workspace_required(admin=True)
def settings_toggle_inapp(request):
    workspace = request.workspace
    workspace.inapp_enabled = request.POST.get("enabled") == "on"
    workspace.save(update_fields=["inapp_enabled"])
    workspace.bump_content_version()
    state = "enabled" if workspace.inapp_enabled else "disabled"
    messages.success(request, f"In-app messages are now {state} for {workspace.name}.")
    if request.htmx:
        return render(
            request, "anonmsg/settings_inapp.html#inapp-switch", _settings_context(request)
        )
    return redirect("settings-inapp", workspace_id=workspace.pk)


@require_POST
@workspace_required(admin=True)
def settings_origins(request):
    form = AllowedOriginsForm(request.POST, instance=request.workspace)
    if form.is_valid():
        form.save()
        messages.success(request, "Allowed origins saved.")
        if not request.htmx:
            return redirect("settings-inapp", workspace_id=request.workspace.pk)
    context = _settings_context(request, origins_form=form)
    if request.htmx:
        return render(request, "anonmsg/settings_inapp.html#origins", context)
    return render(request, "anonmsg/settings_inapp.html", context, status=400)


@require_POST
@workspace_required(admin=True)
def settings_rotate_api_key(request):
    # The secret is shown in this response only, never stored or shown again.
    secret = request.workspace.rotate_api_key()
    messages.success(request, "A new App API key was created. The previous key no longer works.")
    response = render(
        request, "anonmsg/settings_inapp.html", _settings_context(request, new_api_key=secret)
    )
    response["Cache-Control"] = "no-store"
    return response
