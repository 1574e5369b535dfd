"""Packing viewer sets: sorted 64-bit viewer keys with their 24-bit hour masks. Pure."""

import sys
from array import array

ALL_HOURS = (1 << 24) - 1


def _little_endian(values: array) -> bytes:
    if sys.byteorder != "little":  # pragma: no cover (every supported platform is little-endian)
        values = array(values.typecode, values)
        values.byteswap()
    return values.tobytes()


def _from_little_endian(typecode: str, data: bytes) -> array:
    values = array(typecode)
    values.frombytes(bytes(data))
    if sys.byteorder != "little":  # pragma: no cover
        values.byteswap()
    return values


def pack(masks: dict[int, int]) -> tuple[bytes, bytes]:
    keys = sorted(masks)
    return (
        _little_endian(array("q", keys)),
        _little_endian(array("i", [masks[k] for k in keys])),
    )


def unpack(viewers: bytes, hours: bytes) -> dict[int, int]:
    keys = _from_little_endian("q", viewers)
    masks = _from_little_endian("i", hours)
    return dict(zip(keys, masks, strict=True))


def keys(viewers: bytes) -> array:
    return _from_little_endian("q", viewers)


def keys_seen_during(viewers: bytes, hours: bytes, mask: int) -> list[int]:
    """The viewers whose hour mask overlaps `mask`."""
    if mask == ALL_HOURS:
        return list(keys(viewers))
    return [
        key
        for key, seen in zip(keys(viewers), _from_little_endian("i", hours), strict=True)
        if seen & mask
    ]
