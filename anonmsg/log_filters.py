"""Logging filters. Query strings stay out of the logs: SDK requests carry visitors' anonymous
ids and full page URLs there, and preview links carry preview tokens."""

import logging


def request_line_without_query(line: str) -> str:
    """`GET /api/v1/delivery?writeKey=… HTTP/1.1` → `GET /api/v1/delivery HTTP/1.1`."""
    method, space, rest = line.partition(" ")
    target, space_after, protocol = rest.partition(" ")
    return f"{method}{space}{target.split('?', 1)[0]}{space_after}{protocol}"


class StripQueryStrings(logging.Filter):
    """Drops the query string from the request line Django's development server logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "django.server" and record.args and isinstance(record.args, tuple):
            first, *others = record.args
            if isinstance(first, str):
                record.args = (request_line_without_query(first), *others)
        return True
