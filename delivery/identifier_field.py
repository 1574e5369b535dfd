"""`IdentifierField`: an id an SDK sends (anonymousId, userId, messageId), compared byte for byte.

On PostgreSQL the column takes the "C" collation. These ids are only ever matched for
equality and sorted to take locks in a fixed order; a linguistic collation (the database's
default: C.UTF-8, en_US.UTF-8, ICU…) makes every comparison in their indexes call strcoll
instead of memcmp. Sorting 300,000 anonymousIds took 177 ms in "C", 272 ms in glibc's C.UTF-8
and 556 ms in ICU's en-US (PostgreSQL 15, docs/tracking-api.md "Seventh round"), and the
events, the messageId claims and the visitors each keep a B-tree on one of them.

SQLite (no such collation name) keeps its default, BINARY, which already compares bytes.

"C" also folds only ASCII letters in UPPER and LOWER, so a case-insensitive search for people
compares `SearchableText(column)`, which is in the database's own collation.
"""

from django.db import models

BYTEWISE = "C"


class IdentifierField(models.CharField):
    def db_parameters(self, connection):
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = BYTEWISE
        return parameters


class SearchableText(models.Func):
    """An id column in the database's default collation, for case-insensitive search
    (`icontains` folds "É" to "é" there, not in "C"). Plain on SQLite, whose LIKE folds ASCII
    letters only whatever the collation."""

    output_field = models.CharField()
    template = "%(expressions)s"

    def as_postgresql(self, compiler, connection, **extra_context):
        return self.as_sql(
            compiler, connection, template='(%(expressions)s COLLATE "default")', **extra_context
        )
