"""Dashboard URLs of campaigns, mounted under /w/<workspace_id>/ (namespace "campaigns")."""

from django.urls import path

from campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("anonymous/", views.message_list, name="message-list"),
    path("segments/", views.segment_list, name="segment-list"),
]
