from django.shortcuts import render

from anonmsg.tenancy import workspace_required


@workspace_required
def people(request):
    return render(request, "_not_built.html", {"title": "People"})


@workspace_required
def activity(request):
    return render(request, "_not_built.html", {"title": "Activity"})
