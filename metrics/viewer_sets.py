"""Sets of viewers (visitor ids) as serialised roaring bitmaps (pyroaring). Pure.

Visitor ids are dense integers, which roaring bitmaps store in about 2 bytes each and union
in microseconds: what makes unique viewers over any range cheap to count.
"""

from collections.abc import Iterable

from pyroaring import BitMap64

EMPTY = b""


def serialize(visitor_ids: Iterable[int]) -> bytes:
    """A canonical serialisation (equal sets give equal bytes); the empty set is b""."""
    bitmap = visitor_ids if isinstance(visitor_ids, BitMap64) else BitMap64(visitor_ids)
    if not bitmap:
        return EMPTY
    bitmap.run_optimize()
    return bitmap.serialize()


def deserialize(data: bytes | memoryview | None) -> BitMap64:
    if not data:
        return BitMap64()
    return BitMap64.deserialize(bytes(data))


def union(blobs: Iterable[bytes | memoryview | None]) -> BitMap64:
    bitmaps = [deserialize(blob) for blob in blobs if blob]
    if not bitmaps:
        return BitMap64()
    return BitMap64.union(*bitmaps)
