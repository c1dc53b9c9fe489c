"""The inbox's slices (``read/inbox_page.slices``): each workflow state cut into deadline ranges per light.

The counts and the page are read per slice, so the slices must partition a state's tasks exactly as the
light is decided (``ledger_view.light_bands`` and the ledger's ``bands_clause``): the first light whose band
takes a deadline wins, a task no light takes is rank 3 (a stopped clock), and every task is in one slice.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from duban.engine.persistence.read.inbox_page import Lights, Slice, slices
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
