from django.apps import AppConfig


class AnonmsgConfig(AppConfig):
    name = "anonmsg"
    verbose_name = "Workspaces"
