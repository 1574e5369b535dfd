from django.contrib import admin
from django.db.models import Count

from anonmsg.models import Membership, Workspace


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "role", "created_at"]
    readonly_fields = ["created_at"]


@admin.register(Workspace)
class WorkspaceAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "id",
        "plan",
        "inapp_enabled",
        "member_count",
        "time_zone",
        "sdk_last_seen_at",
        "created_at",
    ]
    list_filter = ["plan", "inapp_enabled", "created_at"]
    search_fields = ["name", "write_key", "memberships__user__username"]
    search_help_text = "Name, write key or a member's e-mail."
    readonly_fields = [
        "write_key",
        "api_key_hint",
        "content_version",
        "sdk_last_seen_at",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["name", "plan", "inapp_enabled", "time_zone", "allowed_origins"]}),
        (
            "Keys (read-only; admins rotate the App API key in the dashboard's settings)",
            {"fields": ["write_key", "api_key_hint"]},
        ),
        ("Activity", {"fields": ["content_version", "sdk_last_seen_at", "created_at"]}),
    ]
    inlines = [MembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def member_count(self, obj):
        return obj.member_count

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"plan", "inapp_enabled"} & set(form.changed_data):
            # Delivery caches on the content version; a plan or switch change must reach SDKs.
            obj.bump_content_version()


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "workspace", "role", "created_at"]
    list_filter = ["role", "workspace__plan"]
    search_fields = ["user__username", "user__email", "workspace__name"]
    autocomplete_fields = ["user", "workspace"]
    list_select_related = ["user", "workspace"]
