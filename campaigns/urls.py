"""Dashboard URLs of campaigns, mounted under /w/<workspace_id>/ (namespace "campaigns")."""

from django.urls import path

from campaigns import segment_views, views

app_name = "campaigns"

urlpatterns = [
    path("anonymous/", views.message_list, name="message-list"),
    path("segments/", segment_views.segment_list, name="segment-list"),
    path("segments/new/", segment_views.segment_create, name="segment-create"),
    path("segments/<int:segment_id>/", segment_views.segment_edit, name="segment-edit"),
    path("segments/<int:segment_id>/delete/", segment_views.segment_delete, name="segment-delete"),
]
