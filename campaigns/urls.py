"""Dashboard URLs of campaigns, mounted under /w/<workspace_id>/ (namespace "campaigns")."""

from django.urls import path

from campaigns import experiment_views, segment_views, views

app_name = "campaigns"

urlpatterns = [
    path("anonymous/", views.message_list, name="message-list"),
    path("anonymous/new/", views.message_create, name="message-create"),
    path("anonymous/<int:message_id>/", views.message_detail, name="message-detail"),
    path("anonymous/<int:message_id>/edit/", views.message_edit, name="message-edit"),
    path("anonymous/<int:message_id>/edit/<slug:step>/", views.wizard_step, name="wizard-step"),
    path("anonymous/<int:message_id>/rules/add/", views.rule_add, name="rule-add"),
    path(
        "anonymous/<int:message_id>/rules/<int:rule_id>/delete/",
        views.rule_delete,
        name="rule-delete",
    ),
    path("anonymous/<int:message_id>/rules/test/", views.rule_test, name="rule-test"),
    path("anonymous/<int:message_id>/live-preview/", views.message_preview, name="message-preview"),
    path("anonymous/<int:message_id>/priority/", views.message_priority, name="message-priority"),
    path(
        "anonymous/<int:message_id>/choose-winner/",
        experiment_views.choose_winner,
        name="message-choose-winner",
    ),
    path(
        "anonymous/<int:message_id>/add-variant/",
        views.message_add_variant,
        name="message-add-variant",
    ),
    *[
        path(
            f"anonymous/<int:message_id>/{action}/",
            views.message_action,
            {"action": action},
            name=f"message-{action}",
        )
        for action in views.ACTIONS
    ],
    path("segments/", segment_views.segment_list, name="segment-list"),
    path("segments/new/", segment_views.segment_create, name="segment-create"),
    path("segments/<int:segment_id>/", segment_views.segment_edit, name="segment-edit"),
    path("segments/<int:segment_id>/delete/", segment_views.segment_delete, name="segment-delete"),
]
