"""Dashboard URLs of delivery, mounted under /w/<workspace_id>/ (namespace "delivery")."""

from django.urls import path

from delivery.people import views
from delivery.preview import views as preview_views
from delivery.troubleshooting import views as troubleshooting_views

app_name = "delivery"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("people/<int:profile_id>/", views.person, name="person"),
    path("activity/", views.activity, name="activity"),
    path("activity/<int:event_id>/", views.event, name="event"),
    path("anonymous/<int:message_id>/preview/", preview_views.preview, name="preview"),
    path("debug-visitor/", troubleshooting_views.debug_visitor_page, name="debug-visitor"),
    path("install-check/", troubleshooting_views.install_check, name="install-check"),
]
