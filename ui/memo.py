"""A cache bounded in bytes, shared by every session: fits and tables whose size grows with the data.

Streamlit's ``st.cache_data`` bounds its caches by entries, and one fit of a
million rows holds about 120 MB of responsibilities, so 64 entries could hold
gigabytes. :class:`ByteCache` keeps the most recently used results up to
``gmm_core.budget.CACHE_MAX_BYTES`` in all (:func:`shared`), counting what
their arrays and frames hold (:func:`size_of`), and keeps nothing larger than
``CACHE_MAX_SHARE`` of that. Results are shared, not copied: everything stored
is immutable (frozen results with read-only arrays, tables nobody writes to).
"""

from __future__ import annotations

import sys
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import fields, is_dataclass
from threading import Lock

import numpy as np
import pandas as pd
import streamlit as st

from gmm_core.budget import CACHE_MAX_BYTES, CACHE_MAX_SHARE


def size_of(value, _seen: set[int] | None = None) -> int:
    """Bytes ``value`` holds: arrays' and frames' data, through dataclasses, mappings and sequences.

    Each object counts once (a view of an array counts its base's bytes once too).
    """
    seen = set() if _seen is None else _seen
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        if id(base) in seen:
            return 0
        seen.add(id(base))
        return int(base.nbytes) + 112
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, (pd.DataFrame, pd.Series)):
        return int(value.memory_usage(deep=True).sum() if isinstance(value, pd.DataFrame)
                   else value.memory_usage(deep=True))
    if is_dataclass(value) and not isinstance(value, type):
        return 64 + sum(size_of(getattr(value, f.name), seen) for f in fields(value))
    if isinstance(value, dict) or (hasattr(value, "items") and hasattr(value, "keys")):
        return sys.getsizeof(value) + sum(size_of(k, seen) + size_of(v, seen) for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        return sys.getsizeof(value) + sum(size_of(item, seen) for item in value)
    return sys.getsizeof(value)


class ByteCache:
    """Least-recently-used results, at most ``max_bytes`` together (thread-safe)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._lock = Lock()
        self.bytes = 0

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get_or_compute(self, key: Hashable, compute: Callable[[], object]) -> object:
        """The value stored for ``key``, or ``compute()``'s, stored when it fits.

        ``compute`` runs outside the lock (two sessions asking for the same new key
        both compute it); an exception it raises is not stored.
        """
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]
        value = compute()
        self.put(key, value)
        return value

    def put(self, key: Hashable, value: object) -> None:
        """Store ``value`` under ``key``, evicting the least recently used entries to make room."""
        size = size_of(value)
        if size > CACHE_MAX_SHARE * self.max_bytes:
            return
        with self._lock:
            if key in self._entries:
                self.bytes -= self._entries.pop(key)[1]
            while self._entries and self.bytes + size > self.max_bytes:
                self.bytes -= self._entries.popitem(last=False)[1][1]
            self._entries[key] = (value, size)
            self.bytes += size


@st.cache_resource(show_spinner=False)
def shared() -> ByteCache:
    """The process's one :class:`ByteCache` of ``CACHE_MAX_BYTES``."""
    return ByteCache(CACHE_MAX_BYTES)
