"""Dashboard URLs of metrics, mounted under /w/<workspace_id>/ (namespace "metrics")."""

from django.urls import path

from metrics import views

app_name = "metrics"

urlpatterns = [
    path("anonymous/<int:message_id>/metrics/", views.message_metrics, name="message-metrics"),
    path(
        "anonymous/<int:message_id>/metrics.csv",
        views.message_metrics_csv,
        name="message-metrics-csv",
    ),
    path(
        "anonymous/<int:message_id>/experiment-arms.csv",
        views.experiment_arms_csv,
        name="experiment-arms-csv",
    ),
]
