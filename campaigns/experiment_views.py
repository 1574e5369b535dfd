"""The dashboard's experiment actions: choose a winner (docs/campaigns.md, "Experiments").

The split itself is edited in the wizard's Content step; this ends an experiment from the
message page: all traffic to one variant, optionally keeping a holdout, recorded with who and
when (campaigns/experiments.py).
"""

from django import forms
from django.contrib import messages
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from campaigns import experiments, validation
from campaigns.views import _get_message, _redirect, campaign_view


class ChooseWinnerForm(forms.Form):
    variant = forms.ChoiceField(
        label="Winner", error_messages={"required": "Choose the variant that wins."}
    )
    holdout_percent = forms.IntegerField(
        label="Keep a holdout of (%)",
        min_value=0,
        max_value=validation.MAX_HOLDOUT_PERCENT,
        initial=0,
        required=False,
        widget=forms.NumberInput(attrs={"class": "input-inline"}),
        help_text="Visitors still shown nothing, to keep measuring the message's effect.",
        error_messages={
            # No percent sign: Django interpolates these messages with `%`.
            "invalid": "Enter a whole number of percent.",
            "min_value": f"Enter a whole number from 0 to {validation.MAX_HOLDOUT_PERCENT}.",
            "max_value": f"Enter a whole number from 0 to {validation.MAX_HOLDOUT_PERCENT}.",
        },
    )

    def __init__(self, *args, keys: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["variant"].choices = [(key, f"Variant {key}") for key in keys]


def winner_form(message, variants, data=None) -> ChooseWinnerForm:
    keys = [key for key, _ in experiments.weights_of(message, variants)]
    initial = {"holdout_percent": 0, "variant": message.winner_key or None}
    return ChooseWinnerForm(data, keys=keys, initial=initial)


@campaign_view
@require_http_methods(["GET", "POST"])
def choose_winner(request, message_id):
    """GET: the confirmation page (what the message page's form opens without JavaScript);
    POST: end the experiment."""
    message = _get_message(request, message_id)
    variants = list(message.variants.all())
    if not experiments.is_experiment(message, variants) or not message.is_editable:
        messages.error(request, "This message has no experiment running to end.")
        return _redirect(request, message.get_absolute_url())
    form = winner_form(message, variants, request.POST if request.method == "POST" else None)
    if request.method == "GET":
        form = winner_form(message, variants, request.GET or None)
        form.is_valid()  # shows the choice made on the message page
        return render(request, "campaigns/choose_winner.html", {"message": message, "form": form})
    if not form.is_valid():
        return render(
            request,
            "campaigns/choose_winner.html",
            {"message": message, "form": form},
            status=400,
        )
    key = form.cleaned_data["variant"]
    holdout = form.cleaned_data["holdout_percent"] or 0
    try:
        experiments.choose_winner(
            message=message, key=key, holdout_percent=holdout, user=request.user
        )
    except experiments.WinnerError as exc:
        messages.error(request, exc.message)
        return _redirect(request, message.get_absolute_url())
    kept = f", {holdout} % still held out" if holdout else ""
    messages.success(request, f"Variant {key} won: it now gets all traffic{kept}.")
    return _redirect(request, message.get_absolute_url())
