"""Every AnalyticsService query over gRPC, against figures computed by hand from the
scenario's events (see tests/services/analytics/scenario.py for the inputs).

Weights in these tests: evidence 40, answers 20, timeliness 20, feedback 20 (total 100),
so a score is 40·E + 20·A + 20·T + 20·C.
"""

from __future__ import annotations

from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.core.caller import Caller, Role
from services.analytics import queries
from services.analytics.scope import Scope
from services.pipeline.models import Person
from tests.services.analytics.scenario import (
    T0,
    WEEK1_END,
    WEEK1_START,
    WEEK2_START,
    hours,
)

DIRECTOR = Caller("Dina Director", Role.DIRECTOR, frozenset({"*"}))
approx = pytest.approx


def stamp(moment) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def week1(**filters) -> pb.Filter:
    return pb.Filter(start=stamp(WEEK1_START), end=stamp(WEEK1_END), **filters)


def rep(scenario, name: str, region: str) -> Caller:
    return Caller(name, Role.REP, frozenset({region}))


def manager(scenario, *regions: str) -> Caller:
    return Caller(scenario.name("Manager"), Role.MANAGER, frozenset(regions))


def cells(response) -> dict[tuple[str, str], tuple[int, int, bool]]:
    return {(c.action_key, c.group): (c.due, c.on_time, c.red) for c in response.cells}


# ---- heatmap ----------------------------------------------------------------------------------


async def test_heatmap_by_region_counts_due_and_on_time_and_flags_red(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).Heatmap(pb.HeatmapRequest(filter=week1()))

    # North: appointments P1, P2, P3; demos P1, P2 (P3's is open with no deadline: not due);
    # objection P1 on time, P2 late; contract P1 (P2's was skipped without a deadline).
    assert cells(found) == {
        ("appointment", s.north): (3, 3, False),
        ("solution_demo", s.north): (2, 2, False),
        ("objection_handling", s.north): (2, 1, True),
        ("contract_archive", s.north): (1, 1, False),
        ("appointment", s.south): (1, 1, False),
        ("solution_demo", s.south): (1, 1, False),
        ("objection_handling", s.south): (1, 1, False),
        ("contract_archive", s.south): (1, 1, False),
    }
    assert list(found.action_keys) == [
        "appointment",
        "solution_demo",
        "objection_handling",
        "contract_archive",
    ]
    assert list(found.groups) == sorted([s.north, s.south])
    rate = {(c.action_key, c.group): c.rate for c in found.cells}
    assert rate[("objection_handling", s.north)] == approx(0.5)
    assert found.red_below == approx(0.85)
    assert found.overall_rate == approx(11 / 12)
    assert found.target_rate == approx(0.90)


async def test_heatmap_drills_down_to_reps_with_a_threshold_of_the_request(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).Heatmap(
        pb.HeatmapRequest(
            filter=week1(region=s.north), group_by=pb.HEATMAP_GROUP_REP, red_below=0.4
        )
    )

    assert cells(found) == {
        ("appointment", s.ann): (2, 2, False),
        ("solution_demo", s.ann): (2, 2, False),
        ("objection_handling", s.ann): (2, 1, False),
        ("contract_archive", s.ann): (1, 1, False),
        ("appointment", s.ben): (1, 1, False),
    }
    assert found.red_below == approx(0.4)


async def test_a_period_cut_inside_a_day_counts_the_same_instances(recorded, client_for):
    s = recorded
    # From T0 + 90 min (inside Monday) to T0 + 7 days: the partial first day is read from the
    # facts, whole days from the rollup. Left out: P1's and P2's appointments (started before).
    found = await client_for(DIRECTOR).Heatmap(
        pb.HeatmapRequest(
            filter=pb.Filter(
                start=stamp(T0 + timedelta(minutes=90)), end=stamp(WEEK1_END), region=s.north
            )
        )
    )
    assert cells(found)[("appointment", s.north)] == (1, 1, False)
    assert cells(found)[("objection_handling", s.north)] == (2, 1, True)


async def test_a_rep_sees_only_their_own_cells(recorded, client_for):
    s = recorded
    found = await client_for(rep(s, s.ann, s.north)).Heatmap(pb.HeatmapRequest(filter=week1()))
    assert cells(found) == {
        ("appointment", s.north): (2, 2, False),
        ("solution_demo", s.north): (2, 2, False),
        ("objection_handling", s.north): (2, 1, True),
        ("contract_archive", s.north): (1, 1, False),
    }


# ---- bottlenecks ------------------------------------------------------------------------------


async def test_bottlenecks_rank_by_average_time_open_with_p90(recorded, client_for):
    found = await client_for(DIRECTOR).Bottlenecks(pb.BottlenecksRequest(filter=week1()))

    # Hours open in week 1 (P3's demo is still open: counted to the week's end, 156 h):
    #   demo 24, 6, 156, 6      -> mean 48,     p90 of [6, 6, 24, 156] = 24 + 0.7·132 = 116.4
    #   objection 24, 60, 12    -> mean 32,     p90 of [12, 24, 60]   = 24 + 0.8·36  = 52.8
    #   contract 4, 30, 10      -> mean 14.667, p90 of [4, 10, 30]    = 10 + 0.8·20  = 26
    #   appointment 2, 4, 1, 2  -> mean 2.25 (fourth, left out by the default limit of 3)
    rows = [
        (b.rank, b.action_key, b.instances, b.stalled, b.open, b.average_hours, b.p90_hours)
        for b in found.bottlenecks
    ]
    assert rows == [
        (1, "solution_demo", 4, 1, 1, approx(48.0), approx(116.4)),
        (2, "objection_handling", 3, 1, 0, approx(32.0), approx(52.8)),
        (3, "contract_archive", 3, 0, 0, approx(44 / 3), approx(26.0)),
    ]
    assert found.bottlenecks[1].summary == (
        "objection handling averages 1.3 days (90% within 2.2 days); 1 of 3 stalled"
    )
    assert found.bottlenecks[1].total_hours == approx(96.0)
    assert found.stall_hours == approx(48.0)


async def test_bottlenecks_rank_by_stalled_count(recorded, client_for):
    found = await client_for(DIRECTOR).Bottlenecks(
        pb.BottlenecksRequest(filter=week1(), rank_by=pb.BOTTLENECK_RANK_STALLED, limit=4)
    )
    # Stalled: P3's open demo (156 h > 48 h) and P2's overdue objection; ties by mean time.
    assert [(b.action_key, b.stalled) for b in found.bottlenecks] == [
        ("solution_demo", 1),
        ("objection_handling", 1),
        ("contract_archive", 0),
        ("appointment", 0),
    ]
    appointment = found.bottlenecks[3]
    assert (appointment.average_hours, appointment.p90_hours) == (approx(2.25), approx(3.4))
    assert appointment.summary == (
        "appointment averages 2.2 hours (90% within 3.4 hours); 0 of 4 stalled"
    )


# ---- conversion -------------------------------------------------------------------------------


async def test_conversion_against_references_with_a_two_day_window(recorded, client_for):
    found = await client_for(DIRECTOR).Conversion(
        pb.ConversionRequest(filter=week1(), window_days=2)
    )

    # Contract stage reached: P1 at 50 h, P2 at 71 h, P4 at 23 h, P3 never.
    #   appointment done at 2 (P1, +48 h ok), 5 (P2, +66 h no), 3 (P3, never), 5 (P4, +18 h ok)
    #   demo done at 26 (P1, +24 h ok), 11 (P2, +60 h no), 11 (P4, +12 h ok)
    #   objection done as the contract stage starts (+0 h): P1, P2, P4
    rows = [
        (r.action_key, r.completed, r.converted, r.rate, r.reference, r.target, r.flag)
        for r in found.rows
    ]
    assert rows == [
        ("appointment", 4, 2, 0.5, 0.6, approx(0.78), pb.CONVERSION_FLAG_BELOW_REFERENCE),
        ("solution_demo", 3, 2, approx(2 / 3), 0.5, 0.65, pb.CONVERSION_FLAG_ABOVE_TARGET),
        ("objection_handling", 3, 3, 1.0, 0.9, approx(1.17), pb.CONVERSION_FLAG_AT_REFERENCE),
    ]
    assert (found.window_days, found.contract_action) == (2, "contract_archive")
    assert found.target_factor == approx(1.3)


async def test_conversion_uses_the_configured_window_by_default(recorded, client_for):
    found = await client_for(DIRECTOR).Conversion(pb.ConversionRequest(filter=week1()))
    # Within 7 days every completion converts except P3's appointment.
    assert [(r.action_key, r.completed, r.converted) for r in found.rows] == [
        ("appointment", 4, 3),
        ("solution_demo", 3, 3),
        ("objection_handling", 3, 3),
    ]
    assert found.window_days == 7


async def test_completions_whose_window_has_not_passed_are_maturing(recorded, db_sessions, config):
    s = recorded
    scope = Scope(start=WEEK1_START, end=WEEK1_END, regions=(s.north, s.south))
    rows = await queries.conversion(
        db_sessions, scope, window_days=2, config=config, now=T0 + timedelta(days=4)
    )
    # Now = 96 h: completions after 48 h are still in their window. Objection handling done
    # at 50 h (P1) and 71 h (P2) mature later; P4's at 23 h has converted.
    objection = next(row for row in rows if row.action_key == "objection_handling")
    assert (objection.completed, objection.converted, objection.maturing) == (1, 1, 2)


async def test_the_rollup_and_the_facts_count_the_configured_window_alike(
    recorded, db_sessions, config
):
    s = recorded
    scope = Scope(start=WEEK1_START, end=WEEK1_END, regions=(s.north, s.south))
    now = T0 + timedelta(days=8)
    # The configured 7 days: matured are completions up to 24 h: every appointment, the
    # demos of P2 and P4, P4's objection handling.
    from_rollup = await queries.conversion(
        db_sessions, scope, window_days=7, config=config, now=now
    )
    assert [(r.action_key, r.completed, r.converted, r.maturing) for r in from_rollup] == [
        ("appointment", 4, 3, 0),
        ("solution_demo", 2, 2, 1),
        ("objection_handling", 1, 1, 2),
    ]
    async with db_sessions() as session:
        from_facts = await queries._conversion_from_facts(
            session, scope, window_days=7, config=config, now=now
        )
    assert {key: counts[1:] for key, counts in from_facts.items()} == {
        r.action_key: (r.completed, r.converted, r.maturing) for r in from_rollup
    }


# ---- quality ----------------------------------------------------------------------------------


async def test_quality_per_rep_with_the_configured_weights(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).Quality(pb.QualityRequest(filter=week1()))

    # Ann's seven completions: five score 100; P2's demo 40·2/3 + 60 = 86.667; P2's
    # objection 40 + 20 + 20·0.75 + 20·0 = 75 (late 12 h of 48 h allowed, then lost).
    # Ben: P3's appointment, customer undecided: 80 + 20·0.5 = 90. Cat: four times 100.
    rows = [(r.rep_id, r.region, r.instances, r.score, r.below_target) for r in found.reps]
    assert rows == [
        (s.cat, s.south, 4, approx(100.0), False),
        (s.ann, s.north, 7, approx((500 + 260 / 3 + 75) / 7), False),
        (s.ben, s.north, 1, approx(90.0), True),
    ]
    ann = found.reps[1].components
    assert (ann.evidence, ann.answers, ann.timeliness, ann.feedback) == (
        approx((6 + 2 / 3) / 7),
        approx(1.0),
        approx(6.75 / 7),
        approx(6 / 7),
    )
    assert (found.weights.evidence, found.weights.feedback, found.target) == (40, 20, 92)


async def test_quality_per_instance_newest_first(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).Quality(
        pb.QualityRequest(filter=week1(region=s.north), level=pb.QUALITY_LEVEL_INSTANCE, limit=2)
    )
    rows = [(i.opportunity_id, i.action_key, i.score, i.below_target) for i in found.instances]
    assert rows == [
        (s.opp("P2"), "objection_handling", approx(75.0), True),
        (s.opp("P1"), "contract_archive", approx(100.0), False),
    ]
    p2 = found.instances[0].components
    assert (p2.evidence, p2.answers, p2.timeliness, p2.feedback) == (1.0, 1.0, 0.75, 0.0)
    assert found.instances[0].completed_at.ToDatetime() == (T0 + hours(71)).replace(tzinfo=None)


# ---- growth path ------------------------------------------------------------------------------


async def test_growth_path_next_to_the_teams_top_performers(recorded, client_for):
    s = recorded
    found = await client_for(DIRECTOR).GrowthPath(
        pb.GrowthPathRequest(rep_id=s.ann, weeks=2, end=stamp(WEEK2_START + hours(30)))
    )

    assert (found.team, list(found.top_performers)) == (s.north_manager, [s.ben])
    first, second = found.weeks
    assert first.week_start.ToDatetime() == WEEK1_START.replace(tzinfo=None)
    assert second.week_start.ToDatetime() == WEEK2_START.replace(tzinfo=None)

    # Week 1, Ann: 6 of 7 due on time; quality as above; all 6 non-contract completions
    # reached the contract stage within 7 days. Ben: 1 of 1, 90, his appointment did not.
    assert (first.rep.due, first.rep.completion_rate) == (7, approx(6 / 7))
    assert first.rep.quality == approx((500 + 260 / 3 + 75) / 7)
    assert (first.rep.conversions_decided, first.rep.conversion_rate) == (6, 1.0)
    assert (first.top_performers.completion_rate, first.top_performers.quality) == (
        approx(1.0),
        approx(90.0),
    )
    assert (first.top_performers.conversions_decided, first.top_performers.conversion_rate) == (
        1,
        0.0,
    )

    # Week 2: Ann's P5 appointment (on time, undecided: 90, no contract yet); Ben nothing.
    assert (second.rep.completion_rate, second.rep.quality, second.rep.conversion_rate) == (
        1.0,
        approx(90.0),
        0.0,
    )
    assert not second.top_performers.HasField("completion_rate")
    assert not second.top_performers.HasField("quality")
    assert second.top_performers.due == 0


# ---- health check -----------------------------------------------------------------------------


async def test_health_check_items_values_and_verdict(recorded, client_for, db_sessions):
    s = recorded
    async with db_sessions.begin() as session:
        session.add(
            Person(
                person_id=s.dan,
                role="rep",
                manager_id=s.north_manager,
                region=s.north,
                active=False,
            )
        )

    found = await client_for(manager(s, s.north, s.south)).HealthCheck(
        pb.HealthCheckRequest(filter=week1())
    )
    items = {item.number: item for item in found.items}
    assert [item.number for item in found.items] == list(range(1, 11))

    def status(number):
        return items[number].status, items[number].value

    # 1: demos of P1, P2, P4 all carry files. 2: of Ann and Cat (objections in week 1), only
    # Ann has 3+ outcomes with strategies (P1, P2, P6, P7). 3: all 14 week-1 instances are
    # attributed. 4: Cat is new (first pipeline P4) and won it within 3 days.
    assert status(1) == (pb.HEALTH_STATUS_PASS, 1.0)
    assert items[1].detail.endswith("3 of 3")
    assert status(2) == (pb.HEALTH_STATUS_FAIL, 0.5)
    assert status(3) == (pb.HEALTH_STATUS_PASS, 1.0)
    assert items[3].detail.endswith("14 of 14")
    assert status(4) == (pb.HEALTH_STATUS_PASS, 1.0)
    for number in (5, 6, 7, 8):
        assert items[number].status == pb.HEALTH_STATUS_UNMEASURABLE
        assert items[number].detail
    # 9: P1's ticket answered in 60 min, P4's in 180 min (target 120). 10: Dan left with P11
    # still open.
    assert status(9) == (pb.HEALTH_STATUS_FAIL, 0.5)
    assert status(10) == (pb.HEALTH_STATUS_FAIL, 1.0)

    assert (found.passed, found.unmeasurable, found.needed, found.healthy) == (3, 4, 7, False)
    assert found.verdict == (
        "not healthy: 3 of 10 items pass (7 needed); 4 cannot be measured from the records yet"
    )


async def test_health_items_without_anything_to_judge_are_unmeasurable(recorded, client_for):
    s = recorded
    found = await client_for(manager(s, s.south)).HealthCheck(
        pb.HealthCheckRequest(
            filter=pb.Filter(start=stamp(WEEK2_START), end=stamp(WEEK2_START + timedelta(days=7)))
        )
    )
    statuses = [item.status for item in found.items]
    # Nothing happened in the South in week 2, and nobody there has left.
    assert statuses == [pb.HEALTH_STATUS_UNMEASURABLE] * 10
    assert found.passed == 0


# ---- outcomes and strategies ------------------------------------------------------------------


async def test_a_rep_reads_their_last_three_objection_outcomes(recorded, client_for):
    s = recorded
    stub = client_for(rep(s, s.ann, s.north))
    found = await stub.LastOutcomes(
        pb.LastOutcomesRequest(rep_id=s.ann, action_key="objection_handling")
    )
    rows = [
        (o.opportunity_id, list(o.strategies), o.topic, o.result, o.pipeline_outcome, o.quality)
        for o in found.outcomes
    ]
    # Newest first: P2 (71 h), P1 (50 h), then P7 (week 0); P6 is the fourth.
    assert rows == [
        (
            s.opp("P2"),
            ["phased_payment"],
            "price too high",
            pb.OUTCOME_RESULT_REJECTED,
            "lost",
            approx(75.0),
        ),
        (
            s.opp("P1"),
            ["cost_breakdown"],
            "price too high",
            pb.OUTCOME_RESULT_ACCEPTED,
            "won",
            approx(100.0),
        ),
        (
            s.opp("P7"),
            ["bundle_offer"],
            "installation schedule",
            pb.OUTCOME_RESULT_REJECTED,
            "lost",
            approx(80.0),
        ),
    ]

    about_price = await stub.LastOutcomes(
        pb.LastOutcomesRequest(rep_id=s.ann, action_key="objection_handling", topic="PRICE")
    )
    assert [o.opportunity_id for o in about_price.outcomes] == [
        s.opp("P2"),
        s.opp("P1"),
        s.opp("P6"),
    ]


async def test_strategy_suggestion_from_the_teams_outcomes(recorded, client_for):
    s = recorded
    found = await client_for(rep(s, s.ann, s.north)).StrategySuggestion(
        pb.StrategySuggestionRequest(rep_id=s.ann, action_key="objection_handling")
    )

    # Team (Ann, Ben) objection uses: cost breakdown P1 P6 P8 (3 accepted), phased payment
    # P2 (rejected) P6 (accepted), bundle offer P7 (rejected), reference customer P8 P9
    # (2 accepted): 6 of 8 accepted. Ann: cost breakdown 2 of her 5 uses (team: 3 of 8),
    # reference customer never (team: 2 of 8) -> use reference customer more.
    team = {t.strategy: (t.uses, t.accepted, t.rejected) for t in found.team_strategies}
    assert team == {
        "cost_breakdown": (3, 3, 0),
        "phased_payment": (2, 1, 1),
        "bundle_offer": (1, 0, 1),
        "reference_customer": (2, 2, 0),
    }
    assert found.team_acceptance == approx(0.75)
    assert [(r.strategy, r.uses) for r in found.rep_strategies] == [
        ("cost_breakdown", 2),
        ("phased_payment", 2),
        ("bundle_offer", 1),
    ]
    assert (found.rep_uses, found.team, list(found.use_more)) == (
        5,
        s.north_manager,
        ["reference_customer"],
    )
    assert found.suggestion == (
        "In objection handling you used 3 strategies (cost breakdown ×2, phased payment ×2, "
        "bundle offer ×1); team-wide, reference customer was accepted by customers 100% of "
        "the time (2 of 2) — use it more."
    )


async def test_strategy_suggestion_about_a_topic_when_the_mix_already_works(recorded, client_for):
    s = recorded
    found = await client_for(rep(s, s.ann, s.north)).StrategySuggestion(
        pb.StrategySuggestionRequest(rep_id=s.ann, action_key="objection_handling", topic="price")
    )
    # About price: P1, P2, P6 (Ann), P8 (Ben). Cost breakdown 3 of 3 accepted, used by Ann
    # as often as by the team (2 of 4, 3 of 6); reference customer has only 1 outcome.
    assert list(found.use_more) == []
    assert found.suggestion == (
        "In objection handling about price you used 2 strategies (cost breakdown ×2, phased "
        "payment ×2); your mix already leans on what works for the team: cost breakdown is "
        "accepted 100% of the time (3 of 3)."
    )
    assert found.suggestion_zh == (
        "异议处理（价格）中你使用了2种策略（成本拆解×2、分期付款×2）；你的策略组合已偏向团队中"
        "有效的做法：成本拆解的客户接受率为100%（3次中3次）。"
    )


async def test_strategies_just_used_count_once_before_and_after_their_event(recorded, client_for):
    s = recorded
    stub = client_for(rep(s, s.ann, s.north))
    not_yet_projected = await stub.StrategySuggestion(
        pb.StrategySuggestionRequest(
            rep_id=s.ann,
            action_key="objection_handling",
            opportunity_id=s.opp("P12"),
            strategies_used=["reference_customer"],
        )
    )
    mine = {r.strategy: (r.uses, r.accepted) for r in not_yet_projected.rep_strategies}
    assert mine["reference_customer"] == (1, 0)
    assert not_yet_projected.rep_uses == 6
    # 1 of Ann's 6 uses against 3 of the team's 9: still worth using more.
    assert list(not_yet_projected.use_more) == ["reference_customer"]

    already_projected = await stub.StrategySuggestion(
        pb.StrategySuggestionRequest(
            rep_id=s.ann,
            action_key="objection_handling",
            opportunity_id=s.opp("P1"),
            strategies_used=["cost_breakdown"],
        )
    )
    assert already_projected.rep_uses == 5


# ---- who may read what, and malformed requests ------------------------------------------------


async def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as failure:
        await call
    return failure.value.code(), failure.value.details()


async def test_reps_read_only_their_own_figures(recorded, client_for):
    s = recorded
    ann = client_for(rep(s, s.ann, s.north))
    for call in (
        ann.Heatmap(pb.HeatmapRequest(filter=week1(rep_id=s.ben))),
        ann.GrowthPath(pb.GrowthPathRequest(rep_id=s.ben)),
        ann.LastOutcomes(pb.LastOutcomesRequest(rep_id=s.ben, action_key="objection_handling")),
        ann.StrategySuggestion(
            pb.StrategySuggestionRequest(rep_id=s.ben, action_key="objection_handling")
        ),
    ):
        code, _details = await code_of(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED


async def test_managers_read_only_their_regions(recorded, client_for):
    s = recorded
    south = client_for(manager(s, s.south))
    for call in (
        south.Heatmap(pb.HeatmapRequest(filter=week1(region=s.north))),
        south.Quality(pb.QualityRequest(filter=week1(rep_id=s.ann))),
        south.GrowthPath(pb.GrowthPathRequest(rep_id=s.ann)),
        south.LastOutcomes(pb.LastOutcomesRequest(rep_id=s.ann, action_key="appointment")),
    ):
        code, _details = await code_of(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED

    own = await south.Heatmap(pb.HeatmapRequest(filter=week1()))
    assert {cell.group for cell in own.cells} == {s.south}


async def test_other_roles_and_anonymous_callers_are_refused(recorded, client_for, open_channel):
    legal = client_for(Caller("Lee Legal", Role.LEGAL, frozenset()))
    code, _details = await code_of(legal.Heatmap(pb.HeatmapRequest(filter=week1())))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    hr = client_for(Caller("Hana HR", Role.HR, frozenset()))
    assert len((await hr.Heatmap(pb.HeatmapRequest(filter=week1()))).cells) == 8

    anonymous = client_for(None)
    code, _details = await code_of(anonymous.Heatmap(pb.HeatmapRequest(filter=week1())))
    assert code == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("method", "request_message", "field"),
    [
        ("Heatmap", pb.HeatmapRequest(), "filter.start"),
        ("Heatmap", pb.HeatmapRequest(filter=pb.Filter(start=stamp(T0))), "filter.end"),
        (
            "Heatmap",
            pb.HeatmapRequest(filter=pb.Filter(start=stamp(T0), end=stamp(T0))),
            "filter.end",
        ),
        (
            "Heatmap",
            pb.HeatmapRequest(
                filter=pb.Filter(start=stamp(T0), end=stamp(T0 + timedelta(days=800)))
            ),
            "filter.end",
        ),
        ("Heatmap", pb.HeatmapRequest(filter=week1(), red_below=1.5), "red_below"),
        ("Heatmap", pb.HeatmapRequest(filter=week1(), group_by=7), "group_by"),
        ("Bottlenecks", pb.BottlenecksRequest(filter=week1(), limit=51), "limit"),
        (
            "Bottlenecks",
            pb.BottlenecksRequest(
                filter=pb.Filter(start=stamp(T0), end=stamp(T0 + timedelta(days=93)))
            ),
            "filter.end",
        ),
        ("Conversion", pb.ConversionRequest(filter=week1(), window_days=91), "window_days"),
        ("Quality", pb.QualityRequest(filter=week1(), limit=-1), "limit"),
        ("GrowthPath", pb.GrowthPathRequest(), "rep_id"),
        ("GrowthPath", pb.GrowthPathRequest(rep_id="x", weeks=53), "weeks"),
        ("GrowthPath", pb.GrowthPathRequest(rep_id="x", top=11), "top"),
        ("LastOutcomes", pb.LastOutcomesRequest(rep_id="x"), "action_key"),
        ("LastOutcomes", pb.LastOutcomesRequest(rep_id="x", action_key="a", limit=21), "limit"),
        (
            "StrategySuggestion",
            pb.StrategySuggestionRequest(rep_id="x", action_key="a", strategies_used=["s"]),
            "opportunity_id",
        ),
        (
            "StrategySuggestion",
            pb.StrategySuggestionRequest(rep_id="x", action_key="a", lookback_days=731),
            "lookback_days",
        ),
    ],
)
async def test_malformed_requests_name_the_field(client_for, method, request_message, field):
    code, details = await code_of(getattr(client_for(DIRECTOR), method)(request_message))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"{field}:")
