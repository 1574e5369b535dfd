from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self):
        from anonmsg.openapi import contribute
        from campaigns import openapi, signals  # noqa: F401

        contribute(openapi)
