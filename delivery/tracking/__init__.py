"""The tracking API (POST /v1/track … /v1/batch, docs/tracking-api.md), from request to rows.

views.py (HTTP, CORS, errors) → request_body.py (the raw body, however framed) → parsing.py
(validation into plain `IncomingEvent`s, pure) → group_commit.py (the requests a process
serves at once share one transaction) → recording.py (`record_events`: anonymous calls on
PostgreSQL in one statement, one_statement.py; else `record_in_transaction`) → identity.py
(visitors, profiles, merges) and traits.py (trait caps, pure); bulk_sql.py (multi-row
upserts, prepared statements), write_keys.py (write key → workspace id, "SDK last seen"),
openapi.py (this API's part of the OpenAPI document).
"""
