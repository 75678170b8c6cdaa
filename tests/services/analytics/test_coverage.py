"""Coverage: the period and the people the read model holds, as each caller may see them;
expected values counted by hand from the scenario's pipelines (tests/.../scenario.py)."""

from __future__ import annotations

from datetime import UTC, timedelta

import grpc

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.core.caller import Caller, Role
from tests.services.analytics.scenario import T0, W0
from tests.services.analytics.test_service import DIRECTOR, manager, rep


def reps(response) -> dict[str, tuple[str, str, int]]:
    return {r.rep_id: (r.team, r.region, r.instances) for r in response.reps}


async def test_a_director_sees_every_region_team_and_rep_with_the_span(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).Coverage(pb.CoverageRequest())

    # Week 0's pipelines (P6, P8, P11) start first; P5's appointment a week after T0 last.
    assert found.first_started.ToDatetime(tzinfo=UTC) == W0
    assert found.last_started.ToDatetime(tzinfo=UTC) == T0 + timedelta(days=7)
    # Ann: P1 4 + P2 4 + P5 1 + P6 2 + P7 2; Ben: P3 2 + P8 2 + P9 2; Cat: P4 4; Dan: P11 1.
    assert reps(found) == {
        s.ann: (s.north_manager, s.north, 13),
        s.ben: (s.north_manager, s.north, 6),
        s.cat: (s.south_manager, s.south, 4),
        s.dan: (s.north_manager, s.north, 1),
    }
    assert found.instances == 24
    assert list(found.regions) == sorted([s.north, s.south])
    assert list(found.teams) == sorted([s.north_manager, s.south_manager])
    assert found.timezone == "Asia/Shanghai"


async def test_managers_and_reps_see_their_own_part_only(recorded, client_for):
    s = recorded
    south = await client_for(manager(s, s.south)).Coverage(pb.CoverageRequest())
    assert reps(south) == {s.cat: (s.south_manager, s.south, 4)}
    assert list(south.regions) == [s.south]
    assert south.first_started.ToDatetime(tzinfo=UTC) == T0 + timedelta(hours=3)

    ben = await client_for(rep(s, s.ben, s.north)).Coverage(pb.CoverageRequest())
    assert reps(ben) == {s.ben: (s.north_manager, s.north, 6)}


async def test_nothing_visible_leaves_the_span_unset_and_legal_is_refused(recorded, client_for):
    nobody = Caller("Nora Manager", Role.MANAGER, frozenset({"Nowhere"}))
    empty = await client_for(nobody).Coverage(pb.CoverageRequest())
    assert not empty.HasField("first_started") and not empty.HasField("last_started")
    assert (empty.instances, list(empty.reps), list(empty.regions)) == (0, [], [])

    legal = client_for(Caller("Lee Legal", Role.LEGAL, frozenset()))
    try:
        await legal.Coverage(pb.CoverageRequest())
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    else:
        raise AssertionError("legal read the coverage")
