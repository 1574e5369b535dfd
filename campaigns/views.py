from django.shortcuts import render

from anonmsg.plans import anonymous_messages_required
from anonmsg.tenancy import workspace_required


@workspace_required
@anonymous_messages_required
def message_list(request):
    return render(request, "_not_built.html", {"title": "Anonymous messages"})
