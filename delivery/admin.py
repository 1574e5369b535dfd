"""Admin for tracking data. Raw events are append-only: viewable, never editable."""

from django.contrib import admin

from delivery.models import Event, Profile, Visitor, VisitorMessageState


class VisitorInline(admin.TabularInline):
    model = Visitor
    extra = 0
    fields = ["anonymous_id", "identified_at", "first_seen_at", "last_seen_at", "last_page"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = ["user_id", "email", "workspace", "merged_into", "first_seen_at", "last_seen_at"]
    list_filter = ["workspace"]
    search_fields = ["user_id", "email"]
    list_select_related = ["workspace", "merged_into"]
    readonly_fields = ["workspace", "user_id", "merged_into", "first_seen_at", "last_seen_at"]
    inlines = [VisitorInline]


@admin.register(Visitor)
class VisitorAdmin(admin.ModelAdmin):
    list_display = ["anonymous_id", "workspace", "profile", "identified_at", "last_seen_at"]
    list_filter = ["workspace", ("profile", admin.EmptyFieldListFilter)]
    search_fields = ["anonymous_id", "profile__user_id"]
    list_select_related = ["workspace", "profile"]
    readonly_fields = [
        "workspace",
        "anonymous_id",
        "profile",
        "identified_at",
        "first_seen_at",
        "last_seen_at",
        "user_agent",
        "last_page",
    ]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "type", "name", "anonymous_id", "user_id", "workspace"]
    list_filter = ["type", "action_type", "workspace"]
    search_fields = ["message_id", "anonymous_id", "user_id", "name"]
    list_select_related = ["workspace"]
    date_hierarchy = "timestamp"
    show_full_result_count = False  # no COUNT(*) over the whole events table

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(VisitorMessageState)
class VisitorMessageStateAdmin(admin.ModelAdmin):
    list_display = [
        "visitor",
        "message",
        "views",
        "last_viewed_at",
        "dismissed_at",
        "responded_at",
    ]
    search_fields = ["visitor__anonymous_id"]
    list_select_related = ["visitor", "message"]
    raw_id_fields = ["visitor", "message"]
