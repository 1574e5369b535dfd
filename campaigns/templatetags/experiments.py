"""`{% experiment_card message %}`: a message's experiment on its page (split, winner, and
the choose-winner form); nothing when the message is no experiment."""

from django import template

from campaigns import experiments
from campaigns.experiment_views import winner_form

register = template.Library()


@register.inclusion_tag("campaigns/_experiment.html", takes_context=True)
def experiment_card(context, message):
    variants = list(message.variants.all())
    if not experiments.is_experiment(message, variants):
        return {"experiment": False}
    arms = [
        {"key": key, "weight": weight, "winner": key == message.winner_key}
        for key, weight in experiments.weights_of(message, variants)
    ]
    return {
        "experiment": True,
        "message": message,
        "arms": arms,
        "form": winner_form(message, variants),
        "csrf_token": context.get("csrf_token"),
        "current_workspace": context.get("current_workspace"),
    }
