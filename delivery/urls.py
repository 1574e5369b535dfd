"""Dashboard URLs of delivery, mounted under /w/<workspace_id>/ (namespace "delivery")."""

from django.urls import path

from delivery import views

app_name = "delivery"

urlpatterns = [
    path("people/", views.people, name="people"),
    path("activity/", views.activity, name="activity"),
]
