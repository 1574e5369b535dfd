from django.contrib import admin

from anonmsg.models import Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = ["name", "plan", "inapp_enabled", "time_zone", "sdk_last_seen_at", "created_at"]
    list_filter = ["plan", "inapp_enabled"]
    search_fields = ["name", "write_key"]
    readonly_fields = [
        "write_key",
        "api_key_hint",
        "content_version",
        "sdk_last_seen_at",
        "created_at",
    ]
    fields = ["name", "plan", "inapp_enabled", "time_zone", "allowed_origins", *readonly_fields]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace__plan"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]
    list_select_related = ["user", "workspace"]
