"""The SDK-facing delivery API (GET /api/v1/delivery, docs/delivery-api.md) and the SDK script.

views.py (HTTP) → visitor_state.py (the workspace row and the visitor's message states, one
query or one cache round trip) → live_messages.py (the workspace's live messages, cached) →
eligibility.py (which of them this visitor gets, pure); openapi.py (its part of the document).
"""

# The Django cache both delivery caches use (visitor_state.py, live_messages.py).
CACHE_ALIAS = "default"
