"""A faster ``__init__`` for the frozen slots dataclasses built on every request.

A frozen dataclass's generated ``__init__`` sets each field with ``object.__setattr__``, the
slowest way to fill a slot: orders, resolved orders, ingredient uses and findings
are built by the dozen per request, and their construction was a tenth of the check. ``fast_init``
replaces it with one that fills each slot through the slot's own descriptor (a single C call
per field). Everything else stays as the dataclass made it: the class is still frozen
(assigning a field raises ``FrozenInstanceError``), compares, hashes and prints the same, and
takes the same arguments with the same defaults (``dataclasses.replace`` goes through it too).
"""

from __future__ import annotations

import dataclasses
from typing import TypeVar

T = TypeVar("T", bound=type)


def fast_init(cls: T) -> T:
    """``cls`` (a frozen ``slots=True`` dataclass without ``__post_init__``) with the faster
    ``__init__``: the same parameters, defaults and default factories, in field order."""
    if not dataclasses.is_dataclass(cls) or hasattr(cls, "__post_init__"):
        raise TypeError(f"fast_init: {cls.__name__} is not a plain dataclass")
    params = dataclasses.fields(cls)
    namespace: dict[str, object] = {"_FACTORY": _FACTORY}
    signature, body = [], []
    for field in params:
        if not field.init or field.kw_only:
            raise TypeError(f"fast_init: {cls.__name__}.{field.name} is not a plain field")
        namespace[f"_set_{field.name}"] = cls.__dict__[field.name].__set__
        value = field.name
        if field.default is not dataclasses.MISSING:
            namespace[f"_default_{field.name}"] = field.default
            signature.append(f"{field.name}=_default_{field.name}")
        elif field.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{field.name}"] = field.default_factory
            signature.append(f"{field.name}=_FACTORY")
            value = f"_factory_{field.name}() if {field.name} is _FACTORY else {field.name}"
        else:
            signature.append(field.name)
        body.append(f"    _set_{field.name}(self, {value})\n")
    source = f"def __init__(self, {', '.join(signature)}):\n{''.join(body) or '    pass'}\n"
    exec(source, namespace)
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]
    init.__doc__ = cls.__init__.__doc__
    cls.__init__ = init  # type: ignore[misc]
    return cls


class _Factory:
    """The default of a field with a default factory: the factory is called instead."""

    def __repr__(self) -> str:
        return "<factory>"


_FACTORY = _Factory()
