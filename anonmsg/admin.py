from django.contrib import admin
from django.db.models import Count

from anonmsg.invitations import revoke
from anonmsg.models import Invitation, Membership, Workspace


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


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Read-mostly: staff look invitations up and revoke them. Admins invite in the dashboard;
    the link's token is stored only as a hash, so nothing here can show or recreate it."""

    list_display = ["email", "workspace", "role", "state", "invited_by", "created_at", "expires_at"]
    list_filter = ["role", "created_at", "accepted_at", "revoked_at"]
    search_fields = ["email", "workspace__name", "invited_by__username"]
    list_select_related = ["workspace", "invited_by"]
    fields = [
        "workspace",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
        "accepted_by",
        "revoked_at",
    ]
    readonly_fields = fields
    actions = ["revoke_invitations"]

    @admin.display(description="state")
    def state(self, obj):
        return obj.state()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page is a read-only view; revoking is the list's action.
        return False

    def has_revoke_permission(self, request):
        return request.user.has_perm("anonmsg.change_invitation")

    @admin.action(description="Revoke the selected invitations", permissions=["revoke"])
    def revoke_invitations(self, request, queryset):
        revoked = sum(revoke(invitation=invitation) for invitation in queryset)
        self.message_user(request, f"{revoked} invitation(s) revoked.")
