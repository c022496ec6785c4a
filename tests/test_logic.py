"""Kleene three-valued logic: truth tables of all_of / any_of / at_least / ~."""

from __future__ import annotations

import itertools

import pytest

from trialsieve.logic import Tri, all_of, any_of, at_least

M, N, U = Tri.MET, Tri.NOT_MET, Tri.UNKNOWN

# Kleene strong logic, worked out by hand: AND is the minimum, OR the maximum,
# with NOT_MET < UNKNOWN < MET.
AND = {
    (M, M): M, (M, U): U, (M, N): N,
    (U, M): U, (U, U): U, (U, N): N,
    (N, M): N, (N, U): N, (N, N): N,
}  # fmt: skip
OR = {
    (M, M): M, (M, U): M, (M, N): M,
    (U, M): M, (U, U): U, (U, N): U,
    (N, M): M, (N, U): U, (N, N): N,
}  # fmt: skip


@pytest.mark.parametrize(("a", "b"), list(AND))
def test_all_of_truth_table(a: Tri, b: Tri) -> None:
    assert all_of([a, b]) is AND[a, b]


@pytest.mark.parametrize(("a", "b"), list(OR))
def test_any_of_truth_table(a: Tri, b: Tri) -> None:
    assert any_of([a, b]) is OR[a, b]


def test_not() -> None:
    assert ~M is N
    assert ~N is M
    assert ~U is U


@pytest.mark.parametrize("values", list(itertools.product([M, N, U], repeat=3)))
def test_de_morgan(values: tuple[Tri, ...]) -> None:
    assert ~all_of(values) is any_of(~v for v in values)
    assert ~any_of(values) is all_of(~v for v in values)


@pytest.mark.parametrize(
    ("k", "values", "expected"),
    [
        (2, [M, M, N], M),
        (2, [M, U, N], U),  # the unknown could make the second
        (2, [M, N, N], N),  # no longer possible
        (2, [U, U, N], U),
        (3, [M, M, U], U),
        (1, [N, N, N], N),
        (0, [N, N], M),  # nothing required
        (4, [M, M, M], N),  # more than there are: impossible
    ],
)
def test_at_least(k: int, values: list[Tri], expected: Tri) -> None:
    assert at_least(k, values) is expected


def test_empty() -> None:
    assert all_of([]) is M  # vacuous truth
    assert any_of([]) is N


def test_generators_are_consumed_once() -> None:
    assert all_of(v for v in [M, M]) is M
    assert any_of(v for v in [N, U]) is U


def test_of() -> None:
    assert Tri.of(True) is M
    assert Tri.of(False) is N
    assert Tri.of(None) is U
