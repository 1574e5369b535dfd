"""Read-mostly admin views of derived metrics data (for support and debugging)."""

from django.contrib import admin

from metrics.models import Conversion, MessageHourlyStats, RollupState, SegmentMembership


@admin.register(Conversion)
class ConversionAdmin(admin.ModelAdmin):
    list_display = ["message", "profile", "trigger", "triggered_at", "converted_at"]
    list_filter = ["trigger", "workspace"]
    search_fields = ["profile__user_id", "anonymous_id", "message__name"]
    list_select_related = ["message", "profile"]
    raw_id_fields = ["message", "profile", "workspace"]
    date_hierarchy = "converted_at"


@admin.register(SegmentMembership)
class SegmentMembershipAdmin(admin.ModelAdmin):
    list_display = ["segment", "profile", "entered_at", "left_at"]
    list_filter = ["workspace"]
    search_fields = ["profile__user_id", "segment__name"]
    list_select_related = ["segment", "profile"]
    raw_id_fields = ["segment", "profile", "workspace"]


@admin.register(MessageHourlyStats)
class MessageHourlyStatsAdmin(admin.ModelAdmin):
    list_display = [
        "message",
        "hour",
        "views",
        "unique_viewers",
        "clicks",
        "dismissals",
        "conversions",
    ]
    list_select_related = ["message"]
    raw_id_fields = ["message", "workspace"]
    date_hierarchy = "hour"

    def has_change_permission(self, request, obj=None):
        # Rebuilt from raw events: edit with `manage.py rebuild_rollups`, not by hand.
        return False

    def has_add_permission(self, request):
        return False


@admin.register(RollupState)
class RollupStateAdmin(admin.ModelAdmin):
    list_display = ["name", "event_position", "conversion_position", "ran_at"]
    readonly_fields = ["ran_at"]
