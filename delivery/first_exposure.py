"""A visitor's first exposure to a message in an experiment: one rule, kept by both its homes.

Delivery's `VisitorMessageState` (arm, exposed_at; written by tracking, in
delivery/tracking/recording.py and, on PostgreSQL, one_statement.py) and metrics'
`ExperimentExposure` (arm, exposed_at; written by the rollup, metrics/experiment_rollup.py)
keep the same exposure, so delivery's arms and the metrics' arms always agree:

- An exposure is a view tagged with a variant (A–D) or a held-out report (the holdout).
- The first exposure is the **earliest by the event's timestamp**, whatever order the events
  arrive in (a late mobile batch, clock skew): an earlier one replaces a later one. Two at the
  same instant (a split changed under a visitor, twice in one millisecond): the lower arm key
  (A < B < C < D < holdout). So it depends only on which exposures were recorded, never on
  their order: both homes, each merging batches or chunks as they come, end up alike.

`earlier` decides it in Python (within one batch or chunk); `replaces` says it in SQL for the
upserts that merge a new exposure into a stored one.
"""

from datetime import datetime

Exposure = tuple[datetime, str]  # (when, arm)


def earlier(current: Exposure | None, new: Exposure) -> Exposure:
    """The first exposure of the two (same instant: the lower arm key)."""
    return new if current is None else min(current, new)


def replaces(t: str) -> str:
    """SQL: whether an upsert's new exposure (`excluded`) replaces the one stored in table `t`
    (quoted as the caller quotes it). Both tables name the columns `exposed_at` and `arm`; a
    row without an exposure has exposed_at NULL."""
    return (
        f"(excluded.exposed_at IS NOT NULL AND ({t}.exposed_at IS NULL OR "
        f"(excluded.exposed_at, excluded.arm) < ({t}.exposed_at, {t}.arm)))"
    )
