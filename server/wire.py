"""Finding the field of a protobuf message whose bytes do not decode.

protobuf's parser says only that a message failed to parse. To name the field in a BadRequest
(``medications[2].drug`` for invalid UTF-8 in a drug name), the bytes are walked here, field by
field along the message's descriptor: a string that is not UTF-8, a nested message that does not
parse, a length that runs past the end.
"""

from __future__ import annotations

from google.protobuf.descriptor import Descriptor, FieldDescriptor

_VARINT, _FIXED64, _LENGTH, _FIXED32 = 0, 1, 2, 5
Path = tuple[
    str | int, ...
]  # ("medications", 2, "drug"), as regimenguard.regimen.validation.FieldViolation
UNKNOWN: Path = ()  # broken, but not inside a field the descriptor names


def _varint(data: bytes, position: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if position >= len(data) or shift > 63:
            raise ValueError("truncated varint")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def undecodable_field(descriptor: Descriptor, data: bytes) -> Path | None:
    """The path of the first field whose bytes cannot be decoded, ``UNKNOWN`` (()) when the
    message is broken outside any known field, or None when nothing is wrong here."""
    seen: dict[str, int] = {}
    position = 0
    while position < len(data):
        try:
            key, position = _varint(data, position)
        except ValueError:
            return UNKNOWN
        number, wire = key >> 3, key & 7
        field = descriptor.fields_by_number.get(number)
        label: Path = UNKNOWN
        if field is not None:
            label = (field.name,)
            if _repeated(field):
                index = seen.get(field.name, 0)
                seen[field.name] = index + 1
                label = (field.name, index)
        try:
            if wire == _VARINT:
                _, position = _varint(data, position)
                continue
            if wire in (_FIXED64, _FIXED32):
                position += 8 if wire == _FIXED64 else 4
                if position > len(data):
                    return label
                continue
            if wire != _LENGTH:
                return label
            length, position = _varint(data, position)
        except ValueError:
            return label
        chunk = data[position : position + length]
        position += length
        if len(chunk) < length:
            return label
        if field is None:
            continue
        if field.type == FieldDescriptor.TYPE_STRING:
            try:
                chunk.decode("utf-8")
            except UnicodeDecodeError:
                return label
        elif field.type == FieldDescriptor.TYPE_MESSAGE and wire == _LENGTH:
            inner = undecodable_field(field.message_type, chunk)
            if inner is not None:
                return label + inner
    return None


def _repeated(field: FieldDescriptor) -> bool:
    flag = getattr(field, "is_repeated", None)  # protobuf >= 6; ``label`` before
    if flag is not None:
        return bool(flag)
    return field.label == FieldDescriptor.LABEL_REPEATED
