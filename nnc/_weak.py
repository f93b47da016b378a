"""An attribute held through a weak reference.

The model holds its layers and its last History; each of those points back
at the model. Holding that back-pointer weakly avoids a reference cycle, so
a deleted model frees its engine memory at once instead of at the next full
garbage collection.
"""

from __future__ import annotations

import weakref


class WeakAttribute:
    """Reads give the object, or None once it is gone (or was never set);
    the weak reference itself lives in the instance's ``__dict__[slot]``."""

    def __init__(self, slot: str):
        self.slot = slot

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        ref = obj.__dict__.get(self.slot)
        return ref() if ref is not None else None

    def __set__(self, obj, value) -> None:
        obj.__dict__[self.slot] = None if value is None else weakref.ref(value)
