"""Sharing out an amount in whole cents (app/money.py's allocate): exact, fair, leftover
cents one each to the first parts."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.money import allocate


@settings(max_examples=300, database=None)
@given(total=st.integers(0, 10**7), parts=st.integers(1, 50))
def test_equal_allocation_is_exact_and_fair(total: int, parts: int) -> None:
    shares = allocate(total, [1] * parts)
    assert len(shares) == parts and sum(shares) == total
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)  # the extra cents go to the first parts
    assert shares.count(total // parts + 1) == total % parts


@settings(max_examples=300, database=None)
@given(
    total=st.integers(0, 10**7),
    weights=st.lists(st.integers(0, 10**6), min_size=1, max_size=50),
)
def test_weighted_allocation_is_exact_with_leftover_to_the_first(
    total: int, weights: list[int]
) -> None:
    shares = allocate(total, weights)
    assert len(shares) == len(weights) and sum(shares) == total
    assert all(share >= 0 for share in shares)
    weight_sum = sum(weights) or len(weights)
    effective = weights if sum(weights) else [1] * len(weights)
    floors = [total * w // weight_sum for w in effective]
    extras = [share - floor for share, floor in zip(shares, floors, strict=True)]
    assert set(extras) <= {0, 1}
    assert extras == sorted(extras, reverse=True)  # leftover: one cent each to the first
    assert sum(extras) < len(weights)


def test_allocation_examples_and_errors() -> None:
    assert allocate(10000, [1, 1, 1]) == [3334, 3333, 3333]
    assert allocate(1, [1, 1, 1]) == [1, 0, 0]
    assert allocate(0, [1, 1]) == [0, 0]
    assert allocate(1000, [1, 3]) == [250, 750]
    assert allocate(1001, [1, 1, 2]) == [251, 250, 500]
    assert allocate(5, [0, 0]) == [3, 2]
    with pytest.raises(ValueError):
        allocate(100, [])
    with pytest.raises(ValueError):
        allocate(100, [1, -1])
