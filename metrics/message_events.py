"""The message events SDKs send (DESIGN.md §3): `Report Content Event` tracks whose
`actionType` the tracking API copies into `Event.action_type`."""

VIEWED = "viewed_content"
CLICKED = "clicked_content"
DISMISSED = "dismissed_content"
# A held-out visitor's exposure in an experiment (DESIGN.md §5): never a rollup count.
HELD_OUT = "held_out"

# Which goal trigger ("click" | "view") each action type is.
TRIGGER_OF_ACTION = {CLICKED: "click", VIEWED: "view"}
