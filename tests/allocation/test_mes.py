"""MES's own building blocks, against numpy's general versions."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from civicvote.allocation.mes import _ByClass


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 3_000), max_size=60), min_size=1, max_size=6),
    st.integers(1, 8),
)
def test_gathering_by_class_is_unique_with_its_inverse(calls, start):
    """Every class once, and each entry pointing at its own class, call after call on the same
    slots (stale slots from earlier calls must not leak in), with the slots grown as classes are
    made."""
    by_class = _ByClass(start, 60)
    for entries in calls:
        classes = np.asarray(entries, dtype=np.intp)
        by_class.grow(int(classes.max(initial=0)) + 1)
        distinct, where = by_class(classes)
        assert sorted(distinct.tolist()) == np.unique(classes).tolist()
        assert (distinct[where] == classes).all()
