"""Experiments (DESIGN.md §5; docs/campaigns.md "Experiments"): the App API's `experiment`
field, its writing, and choosing a winner.

Variant A is the message's own content and display, with `variant_a_weight`; B–D are
`MessageVariant` rows. A message is in an experiment when it has a variant B–D or a holdout.
Assignment (campaigns/assignment.py) hashes the message's `experiment_seed`, set when the
experiment is first created and cleared when it is removed, so a new experiment reshuffles.

Ending an experiment = choosing a winner: its weight becomes 100 and the others' 0, keeping
the variants (their exposures stay comparable) and, optionally, a holdout. Only then may a
variant with exposed visitors be removed while the message is live.
"""

from dataclasses import dataclass, field
from datetime import tzinfo

from django.db import transaction
from django.utils import timezone

from anonmsg.api import BadInput
from campaigns import split, validation
from campaigns.models import (
    POSITIONS_BY_DISPLAY,
    AnonymousMessage,
    DisplayType,
    MessageVariant,
    Position,
    Status,
)
from campaigns.signals import experiment_exposures

VARIANT_KEYS = validation.VARIANT_KEYS
MAX_ELEMENT_ID = 200


def is_experiment(message: AnonymousMessage, variants) -> bool:
    return split.is_experiment(variant_count=len(variants), holdout_percent=message.holdout_percent)


def weights_of(message: AnonymousMessage, variants) -> list[tuple[str, int]]:
    return [("A", message.variant_a_weight), *((v.key, v.weight) for v in variants)]


# --- Output --------------------------------------------------------------------------------


def _display_json(variant: MessageVariant) -> dict | None:
    if not variant.display_type:
        return None  # as variant A
    inline = variant.display_type == DisplayType.INLINE
    return {
        "type": variant.display_type,
        "position": None if inline else (variant.display_position or None),
        "elementId": (variant.display_element_id or None) if inline else None,
    }


def experiment_to_json(message: AnonymousMessage, *, tz: tzinfo) -> dict | None:
    """The App API's `experiment` (None: no experiment). Uses `message.variants.all()`, so
    prefetch `variants` for lists."""
    variants = list(message.variants.all())
    if not is_experiment(message, variants):
        return None
    winner = None
    if message.winner_key:
        chosen_by = message.winner_chosen_by
        winner = {
            "key": message.winner_key,
            "chosenAt": message.winner_chosen_at.astimezone(tz).isoformat()
            if message.winner_chosen_at
            else None,
            # None when chosen through the App API (a key, not a person).
            "chosenBy": chosen_by.email or chosen_by.get_username() if chosen_by else None,
        }
    return {
        "variants": [
            {"key": "A", "weight": message.variant_a_weight},
            *(
                {
                    "key": variant.key,
                    "weight": variant.weight,
                    "content": {"html": variant.content_html},
                    "display": _display_json(variant),
                }
                for variant in variants
            ),
        ],
        "holdoutPercent": message.holdout_percent,
        "winner": winner,
    }


# --- Input ---------------------------------------------------------------------------------


@dataclass
class ExperimentValues:
    """What to write: A's weight, the holdout, and the variants B–D (each a dict of
    MessageVariant fields; `content_html` None = keep the stored content)."""

    a_weight: int = 100
    holdout_percent: int = 0
    variants: list[dict] = field(default_factory=list)

    @property
    def is_experiment(self) -> bool:
        return bool(self.variants) or self.holdout_percent > 0


def _type_name(value) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def _object(value, path: str, keys: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise BadInput(f"`{path}` must be an object, not {_type_name(value)}.", field=path)
    for key in value:
        if key not in keys:
            raise BadInput(
                f"Unknown field `{path}.{key}`: {path} has {', '.join(keys)}.",
                field=f"{path}.{key}",
                code="unknown_field",
            )
    return value


def _raise_first(problems, *, prefix: str = "") -> None:
    for problem in problems:
        if problem.api is not None:
            raise BadInput(problem.api, field=prefix + problem.api_path, code=problem.api_code)


def parse_experiment(raw, *, message: AnonymousMessage | None) -> ExperimentValues:
    """The `experiment` field of a POST (message=None) or PATCH body. `null` removes it;
    `variants` left out keeps the current ones (and their weights)."""
    current = list(message.variants.all()) if message is not None and message.pk else []
    if raw is None:
        return ExperimentValues()
    data = _object(raw, "experiment", ("variants", "holdoutPercent", "winner"))
    if "winner" in data:
        current_winner = message.winner_key if message is not None else ""
        sent = data["winner"]
        sent_key = sent.get("key") if isinstance(sent, dict) else sent
        if (sent_key or "") != current_winner:
            raise BadInput(
                "`experiment.winner` is read-only: choose a winner with "
                "POST /api/v1/anonymous-messages/{id}/choose-winner.",
                field="experiment.winner",
                code="read_only",
            )
    values = ExperimentValues(
        a_weight=message.variant_a_weight if message is not None else 100,
        holdout_percent=message.holdout_percent if message is not None else 0,
        variants=[{"key": v.key, "weight": v.weight} for v in current],
    )
    if "holdoutPercent" in data:
        values.holdout_percent = data["holdoutPercent"]
    if "variants" in data:
        values.a_weight, values.variants = _parse_variants(data["variants"], current)
    weights = [("A", values.a_weight), *((v["key"], v["weight"]) for v in values.variants)]
    _raise_first(
        validation.check_experiment(weights=weights, holdout_percent=values.holdout_percent)
    )
    return values


def _parse_variants(raw, current: list[MessageVariant]) -> tuple[int, list[dict]]:
    if not isinstance(raw, list):
        raise BadInput(
            f"`experiment.variants` must be an array, not {_type_name(raw)}.",
            field="experiment.variants",
        )
    if not 1 <= len(raw) <= validation.MAX_VARIANTS:
        raise BadInput(
            f"An experiment has 1 to {validation.MAX_VARIANTS} variants (A to D).",
            field="experiment.variants",
        )
    items = [
        _object(item, f"experiment.variants[{index}]", ("key", "weight", "content", "display"))
        for index, item in enumerate(raw)
    ]
    keys = [item.get("key") for item in items]
    if keys != list(VARIANT_KEYS[: len(keys)]):
        bad = next(i for i, key in enumerate(keys) if key != VARIANT_KEYS[i])
        raise BadInput(
            "Variants are named A, B, C, D in this order, each once (A is the message's own "
            "content).",
            field=f"experiment.variants[{bad}].key",
        )
    given = [item for item in items if "weight" in item]
    if given and len(given) != len(items):
        missing = next(i for i, item in enumerate(items) if "weight" not in item)
        raise BadInput(
            "Give every variant a weight (or none, for an equal split).",
            field=f"experiment.variants[{missing}].weight",
            code="required",
        )
    # None given: an equal split, A taking the rounding (34/33/33).
    weights = [item["weight"] for item in items] if given else split.equal_weights(len(items))
    weights = [int(w) if isinstance(w, float) and w.is_integer() else w for w in weights]
    stored = {variant.key: variant for variant in current}
    variants = []
    for index, item in enumerate(items):
        path = f"experiment.variants[{index}]"
        if index == 0:
            for key in ("content", "display"):
                if key in item:
                    raise BadInput(
                        f"Variant A is the message itself: set its {key} with the message's "
                        f"`{key}` field.",
                        field=f"{path}.{key}",
                    )
            continue
        variants.append(
            {
                "key": item["key"],
                "weight": weights[index],
                **_parse_variant_content(item, path, stored.get(item["key"])),
                **_parse_variant_display(item.get("display"), path),
            }
        )
    return weights[0], variants


def _parse_variant_content(item: dict, path: str, stored: MessageVariant | None) -> dict:
    if "content" not in item:
        if stored is None:
            raise BadInput(
                f'Variant {item["key"]} needs its content: {{"html": "…"}}.',
                field=f"{path}.content",
                code="required",
            )
        return {"content_html": None}  # keep it
    content = _object(item["content"], f"{path}.content", ("html",))
    html = content.get("html")
    if not isinstance(html, str):
        raise BadInput(
            f"`{path}.content.html` must be a string, not {_type_name(html)}.",
            field=f"{path}.content.html",
        )
    if "\x00" in html:
        raise BadInput(
            f"`{path}.content.html` contains a NUL character (\\u0000).",
            field=f"{path}.content.html",
        )
    try:
        html.encode()
    except UnicodeEncodeError:
        raise BadInput(
            f"`{path}.content.html` is not valid Unicode (it has a lone surrogate escape).",
            field=f"{path}.content.html",
        ) from None
    if not html.strip():
        raise BadInput(
            f"Variant {item['key']} needs some content: write its HTML.",
            field=f"{path}.content.html",
            code="required",
        )
    _raise_first(validation.check_content(html), prefix=f"{path}.")
    return {"content_html": html}


def _parse_variant_display(raw, path: str) -> dict:
    """`null`: as variant A (blank fields)."""
    if raw is None:
        return {"display_type": "", "display_position": "", "display_element_id": ""}
    display = _object(raw, f"{path}.display", ("type", "position", "elementId"))
    display_type = display.get("type")
    if display_type not in DisplayType.values:
        raise BadInput(
            f"`{path}.display.type` must be one of {', '.join(DisplayType.values)}.",
            field=f"{path}.display.type",
        )
    position = display.get("position")
    if position is not None and position not in Position.values:
        raise BadInput(
            f"`{path}.display.position` must be one of {', '.join(Position.values)} or null.",
            field=f"{path}.display.position",
        )
    element_id = display.get("elementId") or ""
    if not isinstance(element_id, str) or len(element_id) > MAX_ELEMENT_ID:
        raise BadInput(
            f"`{path}.display.elementId` must be a string of at most {MAX_ELEMENT_ID} characters.",
            field=f"{path}.display.elementId",
        )
    _raise_first(
        validation.check_display(
            display_type=display_type,
            position=position,
            element_id=element_id.strip(),
            position_given=position is not None,
        ),
        prefix=f"{path}.",
    )
    if display_type == DisplayType.INLINE:
        return {
            "display_type": display_type,
            "display_position": "",
            "display_element_id": element_id.strip(),
        }
    allowed = POSITIONS_BY_DISPLAY[DisplayType(display_type)]
    return {
        "display_type": display_type,
        "display_position": position if position in allowed else allowed[0],
        "display_element_id": "",
    }


# --- Writing -------------------------------------------------------------------------------


def _live(message: AnonymousMessage) -> bool:
    return message.status in (Status.LAUNCHED, Status.PAUSED)


def exposed_arms(message: AnonymousMessage) -> set[str]:
    """The arms that already have exposed visitors (delivery answers, through a signal)."""
    arms: set[str] = set()
    for _receiver, answer in experiment_exposures.send(sender=AnonymousMessage, message=message):
        arms |= set(answer or ())
    return arms


def check_removals(message: AnonymousMessage, values: ExperimentValues) -> None:
    """While the message is live, a variant with exposed visitors is removed only after the
    experiment ended (a winner was chosen), and never the winner itself: its visitors would
    silently switch content in the middle of the comparison."""
    if not message.pk or not _live(message):
        return
    kept = {v["key"] for v in values.variants}
    removed = [v.key for v in message.variants.all() if v.key not in kept]
    if not removed:
        return
    exposed = exposed_arms(message)
    for key in removed:
        if key not in exposed:
            continue
        if message.winner_key and key != message.winner_key:
            continue
        if key == message.winner_key:
            text = (
                f"Variant {key} is the chosen winner and visitors see it: keep it while the "
                "message is live."
            )
        else:
            text = (
                f"Variant {key} already has exposed visitors and the message is live: removing "
                "it would break the comparison. End the experiment instead: choose a winner "
                "(POST /api/v1/anonymous-messages/{id}/choose-winner), then remove the others."
            )
        raise BadInput(text, field="experiment.variants", code="variant_has_exposures")


def save_experiment(*, message: AnonymousMessage, values: ExperimentValues) -> None:
    """Write the split and the variants B–D (the message row is saved by the caller, after
    this sets its fields; inside the caller's transaction)."""
    was_experiment = is_experiment(message, list(message.variants.all()) if message.pk else [])
    message.variant_a_weight = values.a_weight
    message.holdout_percent = values.holdout_percent
    if values.is_experiment and not (was_experiment and message.experiment_seed):
        message.experiment_seed = split.new_experiment_seed()
    elif not values.is_experiment:
        message.experiment_seed = ""
    weights = {"A": values.a_weight, **{v["key"]: v["weight"] for v in values.variants}}
    if message.winner_key and (not values.is_experiment or weights.get(message.winner_key) != 100):
        # No experiment any more, or the split changed after the winner: it runs again.
        message.winner_key = ""
        message.winner_chosen_at = None
        message.winner_chosen_by = None


def save_variants(*, message: AnonymousMessage, values: ExperimentValues) -> None:
    """Replace the message's variants B–D with `values.variants` (after the message is
    saved: a new message needs its id)."""
    stored = {variant.key: variant for variant in message.variants.all()}
    kept = {v["key"] for v in values.variants}
    removed = [key for key in stored if key not in kept]
    if removed:
        MessageVariant.objects.filter(message=message, key__in=removed).delete()
    for item in values.variants:
        variant = stored.get(item["key"]) or MessageVariant(message=message, key=item["key"])
        variant.weight = item["weight"]
        if item.get("content_html") is not None:
            variant.content_html = item["content_html"]
            variant.content_builder = None
        for name in ("display_type", "display_position", "display_element_id"):
            if name in item:
                setattr(variant, name, item[name])
        variant.save()


class WinnerError(ValueError):
    def __init__(self, message: str, field: str = "variant"):
        super().__init__(message)
        self.message = message
        self.field = field


@transaction.atomic
def choose_winner(
    *, message: AnonymousMessage, key: str, holdout_percent: int = 0, user=None, now=None
) -> AnonymousMessage:
    """End the experiment: all traffic (but an optional holdout) to variant `key`, recorded
    with who (None: the App API) and when. The variants stay, with weight 0."""
    message = AnonymousMessage.objects.select_for_update().get(pk=message.pk)
    variants = list(message.variants.all())
    if not is_experiment(message, variants):
        raise WinnerError("This message is not an experiment: there is no winner to choose.")
    if not message.is_editable:
        raise WinnerError(
            f"This message is {message.state}: its experiment can no longer change.", "state"
        )
    keys = [k for k, _ in weights_of(message, variants)]
    if key not in keys:
        raise WinnerError(f"Choose one of the message's variants: {', '.join(keys)}.")
    if (
        isinstance(holdout_percent, bool)
        or not isinstance(holdout_percent, int)
        or not 0 <= holdout_percent <= validation.MAX_HOLDOUT_PERCENT
    ):
        raise WinnerError(
            "The holdout to keep must be a whole number of percent from 0 to "
            f"{validation.MAX_HOLDOUT_PERCENT}.",
            "holdoutPercent",
        )
    for variant in variants:
        weight = 100 if variant.key == key else 0
        if variant.weight != weight:
            variant.weight = weight
            variant.save(update_fields=["weight", "updated_at"])
    message.variant_a_weight = 100 if key == "A" else 0
    message.holdout_percent = holdout_percent
    message.winner_key = key
    message.winner_chosen_at = now or timezone.now()
    message.winner_chosen_by = user
    message.save(
        update_fields=[
            "variant_a_weight",
            "holdout_percent",
            "winner_key",
            "winner_chosen_at",
            "winner_chosen_by",
            "updated_at",
        ]
    )
    return message
