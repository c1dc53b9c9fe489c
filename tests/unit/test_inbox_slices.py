"""The inbox's slices (``read/inbox_page.slices``): each workflow state cut into deadline ranges per light.

The counts and the page are read per slice, so the slices must partition a state's tasks exactly as the
light is decided (``ledger_view.light_bands`` and the ledger's ``bands_clause``): the first light whose band
takes a deadline wins, a task no light takes is rank 3 (a stopped clock), and every task is in one slice.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from duban.engine.domain.visibility import Viewer
from duban.engine.persistence.read.inbox_page import ArmKey, Lights, Slice, needless_arms, slices
from duban.engine.persistence.read.ledger_page import LightBand

TODAY = date(2026, 11, 25)


def _first_light(lights: Lights, wf: str, state: str, due: date | None) -> int:
    for rank, bands in enumerate((lights.red, lights.yellow, lights.green)):
        for b in bands:
            if b.workflow != wf or state not in b.states:
                continue
            if due is None:
                if b.with_none:
                    return rank
                continue
            if (b.low is None or due >= b.low) and (b.high is None or due <= b.high):
                return rank
    return 3


def _holding(cut: tuple[Slice, ...], wf: str, state: str, due: date | None) -> list[Slice]:
    return [
        s
        for s in cut
        if s.workflow == wf
        and s.state == state
        and (
            (due is None and s.span is None)
            if s.span is None or due is None
            else (s.span[0] is None or due >= s.span[0]) and (s.span[1] is None or due <= s.span[1])
        )
    ]


def test_slices_partition_each_state_as_the_lights_rank_it() -> None:
    running = ("assigned", "in_progress")
    usual = Lights(
        (LightBand("rectification", running, None, TODAY - timedelta(days=1)),),
        (LightBand("rectification", running, TODAY, TODAY + timedelta(days=5)),),
        (LightBand("rectification", running, TODAY + timedelta(days=6), None, with_none=True),),
    )
    odd = Lights(  # overlapping bands and a gap: the first light still wins, and the gap is rank 3
        (LightBand("rectification", running, TODAY - timedelta(days=3), TODAY + timedelta(days=2)),),
        (LightBand("rectification", ("in_progress",), TODAY, TODAY + timedelta(days=9)),),
        (LightBand("rectification", running, TODAY + timedelta(days=20), None),),
    )
    pairs = (("rectification", "assigned"), ("rectification", "in_progress"), ("rectification", "submitted"))
    rnd = random.Random(12)
    dues: list[date | None] = [None, *(TODAY + timedelta(days=rnd.randrange(-60, 60)) for _ in range(400))]
    dues += [TODAY + timedelta(days=d) for d in (-4, -3, -1, 0, 2, 3, 5, 6, 9, 10, 19, 20)]
    for lights in (usual, odd):
        cut = slices(pairs, lights)
        for wf, state in pairs:
            for due in dues:
                held = _holding(cut, wf, state, due)
                assert len(held) == 1, (state, due, held)
                assert held[0].rank == _first_light(lights, wf, state, due), (state, due)
        assert {s.rank for s in slices(pairs, lights, red_only=True)} == {0}


def _arm(rank: int, state: str) -> ArmKey:
    return (
        Viewer("fenglei", 1, frozenset()),
        frozenset({1}),
        Slice("rectification", state, rank, None),
        frozenset(),
        frozenset(),
    )


def test_a_page_leaves_out_empty_arms_and_the_ranks_after_a_full_page_but_never_trusts_the_cursors_rank() -> None:
    red_a, red_b, yellow, green, stopped = _arm(0, "a"), _arm(0, "b"), _arm(1, "a"), _arm(2, "a"), _arm(3, "a")
    keys = (red_a, red_b, yellow, green, stopped)
    tallies = {red_a: 2, red_b: 1, yellow: 0, green: 5, stopped: 1}
    # three red rows fill a page of two (and tell that more follow): nothing after red is read; yellow is empty
    assert needless_arms(keys, tallies, 2, None) == {yellow, green, stopped}
    # a page of three needs a fourth row to know whether more follow: green is read, what comes after it is not
    assert needless_arms(keys, tallies, 3, None) == {yellow, stopped}
    # past a cursor inside red, red's counts include rows already shown: the ranks after it are read on
    assert needless_arms(keys, tallies, 2, (0, date(2026, 9, 1), 7)) == {yellow, stopped}
    # an arm not counted in this transaction: every arm is read
    assert needless_arms(keys, {k: n for k, n in tallies.items() if k is not green}, 2, None) == frozenset()
