from django.apps import AppConfig


class AnonmsgConfig(AppConfig):
    name = "anonmsg"
    verbose_name = "Workspaces"

    def ready(self):
        from anonmsg import checks  # noqa: F401  (registers them)
