"""`salesflow points ...`: balances, the ledger, the leaderboard, the redemption pool,
recalculation and the quarterly export, against a running points service over gRPC.

Every command speaks as a caller (--as/--role/--regions or SALESFLOW_CALLER_*), so the
service applies the same checks as for any client.
"""

from __future__ import annotations

import asyncio
import re
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path

import grpc

from salesflow.cli.pipelines import (
    add_identity_options,
    call_as,
    caller_from_options,
    print_rpc_error,
)
from salesflow.core.rpc import channel
from salesflow.core.settings import Settings
from salesflow.points.v1 import points_pb2, points_pb2_grpc

RPC_TIMEOUT_SECONDS = 60
QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def register(commands) -> None:
    """Adds the `points` command group to the top-level parser."""
    points = commands.add_parser("points", help="points, leaderboard, rewards, HR export")
    verbs = points.add_subparsers(dest="verb", required=True)

    balance = verbs.add_parser("balance", help="a rep's balance (the sum of their entries)")
    balance.add_argument("rep_id")
    balance.set_defaults(handler=_balance)

    ledger = verbs.add_parser("ledger", help="a rep's ledger entries, newest first")
    ledger.add_argument("rep_id")
    ledger.add_argument("--limit", type=int, default=50)
    ledger.set_defaults(handler=_ledger)

    board = verbs.add_parser("leaderboard", help="reps ranked by points")
    board.add_argument("--period", choices=["week", "month", "quarter"], default="")
    board.add_argument("--at", default="", help="a moment in the period (ISO 8601; default now)")
    board.add_argument("--region", default="")
    board.add_argument("--team", default="", help="a manager's id: only their team")
    board.add_argument("--limit", type=int, default=20)
    board.add_argument("--watch", action="store_true", help="print the board on every change")
    board.set_defaults(handler=_leaderboard)

    rewards = verbs.add_parser("rewards", help="the redemption pool's catalogue")
    rewards.add_argument("--all", action="store_true", help="inactive rewards too (admin)")
    rewards.set_defaults(handler=_rewards)

    reward = verbs.add_parser("reward", help="add or change a reward (admin)")
    reward.add_argument("key")
    reward.add_argument("--name", required=True)
    reward.add_argument("--name-zh", default="")
    reward.add_argument("--price", type=int, required=True)
    reward.add_argument("--stock", type=int, required=True)
    reward.add_argument("--inactive", action="store_true", help="no longer offered")
    reward.set_defaults(handler=_put_reward)

    redeem = verbs.add_parser("redeem", help="spend points on a reward (held until decided)")
    redeem.add_argument("reward_key")
    redeem.add_argument("--rep", default="", help="default: the caller")
    redeem.add_argument(
        "--key", default="", help="idempotency key; repeat it to retry safely (default: new)"
    )
    redeem.set_defaults(handler=_redeem)

    for verb, text in (
        ("approve", "grant a pending redemption (manager)"),
        ("reject", "refuse a pending redemption; points and stock come back (manager)"),
        ("cancel", "withdraw your pending redemption; points and stock come back"),
    ):
        decide = verbs.add_parser(verb, help=text)
        decide.add_argument("redemption_id")
        decide.add_argument("--note", default="")
        decide.set_defaults(handler=_decide, decision=verb)

    redemptions = verbs.add_parser("redemptions", help="redemptions, newest first")
    redemptions.add_argument("--rep", default="")
    redemptions.add_argument("--status", default="")
    redemptions.add_argument("--limit", type=int, default=50)
    redemptions.set_defaults(handler=_redemptions)

    export = verbs.add_parser(
        "export", help="a quarter's totals per rep for HR (CSV or XLSX); closes the quarter"
    )
    export.add_argument("--quarter", required=True, help="e.g. 2026Q4")
    export.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    export.add_argument("-o", "--output", type=Path, required=True)
    export.set_defaults(handler=_export)

    close = verbs.add_parser("close", help="close a quarter (exports it and keeps the files)")
    close.add_argument("--quarter", required=True, help="e.g. 2026Q4")
    close.set_defaults(handler=_close)

    recalculate = verbs.add_parser(
        "recalculate", help="adjust a quarter to the latest rules with labelled entries (admin)"
    )
    recalculate.add_argument("--quarter", required=True)
    recalculate.add_argument("--label", required=True, help="why; every adjustment carries it")
    recalculate.add_argument("--dry-run", action="store_true", help="list, write nothing")
    recalculate.set_defaults(handler=_recalculate)

    parked = verbs.add_parser("parked", help="events not entered, with the reason")
    parked.add_argument("--limit", type=int, default=100)
    parked.set_defaults(handler=_parked)

    for sub in verbs.choices.values():
        add_identity_options(sub)


def _stub(settings: Settings, options):
    return channel(settings.target("points"), caller_from_options(options))


def _fail(error: grpc.aio.AioRpcError) -> int:
    return print_rpc_error(error)


def _quarter(text: str) -> tuple[int, int] | None:
    match = QUARTER.match(text.strip().upper())
    if match is None:
        print(f"salesflow: --quarter {text!r} is not like 2026Q4", file=sys.stderr)
        return None
    return int(match.group(1)), int(match.group(2))


async def _call(settings: Settings, options, method: str, request):
    """One unary call; returns (response, None) or (None, exit code)."""
    found = await call_as(
        options,
        settings,
        "points",
        points_pb2_grpc.PointsServiceStub,
        method,
        request,
        timeout=RPC_TIMEOUT_SECONDS,
    )
    return (found, None) if found is not None else (None, 1)


async def _balance(options, settings: Settings) -> int:
    found, failed = await _call(
        settings, options, "GetBalance", points_pb2.GetBalanceRequest(rep_id=options.rep_id)
    )
    if failed:
        return failed
    print(f"{found.rep_id}: {found.points} points ({found.entries} entries)")
    return 0


async def _ledger(options, settings: Settings) -> int:
    request = points_pb2.ListEntriesRequest(rep_id=options.rep_id, limit=options.limit)
    found, failed = await _call(settings, options, "ListEntries", request)
    if failed:
        return failed
    for entry in found.entries:
        when = entry.occurred_at.ToDatetime(tzinfo=UTC).isoformat()
        print(
            f"{when}  {entry.points:+5d}  {entry.kind:<10} {entry.rule:<28} "
            f"{entry.rule_version:<20} {entry.period}  {entry.label}"
        )
    return 0


def _board_request(options) -> points_pb2.GetLeaderboardRequest | None:
    request = points_pb2.GetLeaderboardRequest(
        region=options.region, team=options.team, period=options.period, limit=options.limit
    )
    if options.at:
        try:
            moment = datetime.fromisoformat(options.at)
        except ValueError:
            print(f"salesflow: --at {options.at!r} is not an ISO 8601 time", file=sys.stderr)
            return None
        request.at.FromDatetime(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return request


def _print_board(board: points_pb2.Leaderboard) -> None:
    title = f"Leaderboard {board.period_label}".rstrip()
    print(title)
    for row in board.rows:
        print(f"  {row.rank:>3}. {row.rep_id:<24} {row.region:<12} {row.team:<20} {row.points:>6}")
    sys.stdout.flush()


async def _leaderboard(options, settings: Settings) -> int:
    request = _board_request(options)
    if request is None:
        return 2
    if not options.watch:
        found, failed = await _call(settings, options, "GetLeaderboard", request)
        if failed:
            return failed
        _print_board(found)
        return 0
    async with _stub(settings, options) as open_channel:
        stub = points_pb2_grpc.PointsServiceStub(open_channel)
        try:
            async for board in stub.WatchLeaderboard(request):
                _print_board(board)
        except grpc.aio.AioRpcError as error:
            return _fail(error)
        except asyncio.CancelledError:
            return 130
    return 0


async def _rewards(options, settings: Settings) -> int:
    request = points_pb2.ListRewardsRequest(include_inactive=options.all)
    found, failed = await _call(settings, options, "ListRewards", request)
    if failed:
        return failed
    for reward in found.rewards:
        state = "" if reward.active else "  (not offered)"
        print(
            f"{reward.key:<24} {reward.price:>6} points  stock {reward.stock:<5} "
            f"{reward.name} / {reward.name_zh}{state}"
        )
    return 0


async def _put_reward(options, settings: Settings) -> int:
    request = points_pb2.Reward(
        key=options.key,
        name=options.name,
        name_zh=options.name_zh,
        price=options.price,
        stock=options.stock,
        active=not options.inactive,
    )
    found, failed = await _call(settings, options, "PutReward", request)
    if failed:
        return failed
    print(f"reward {found.key}: {found.price} points, stock {found.stock}")
    return 0


def _print_redemption(redemption: points_pb2.Redemption) -> None:
    print(
        f"{redemption.redemption_id}  {redemption.status:<9} {redemption.rep_id:<24} "
        f"{redemption.reward_key:<20} {redemption.price:>6} points  "
        f"key {redemption.idempotency_key}" + (f"  ({redemption.note})" if redemption.note else "")
    )


async def _redeem(options, settings: Settings) -> int:
    key = options.key or uuid.uuid4().hex
    request = points_pb2.RedeemRequest(
        rep_id=options.rep, reward_key=options.reward_key, idempotency_key=key
    )
    found, failed = await _call(settings, options, "Redeem", request)
    if failed:
        print(f"  (retry with --key {key} to get this attempt's answer again)", file=sys.stderr)
        return failed
    _print_redemption(found)
    return 0


async def _decide(options, settings: Settings) -> int:
    method = {
        "approve": "ApproveRedemption",
        "reject": "RejectRedemption",
        "cancel": "CancelRedemption",
    }[options.decision]
    request = points_pb2.DecideRedemptionRequest(
        redemption_id=options.redemption_id, note=options.note
    )
    found, failed = await _call(settings, options, method, request)
    if failed:
        return failed
    _print_redemption(found)
    return 0


async def _redemptions(options, settings: Settings) -> int:
    request = points_pb2.ListRedemptionsRequest(
        rep_id=options.rep, status=options.status, limit=options.limit
    )
    found, failed = await _call(settings, options, "ListRedemptions", request)
    if failed:
        return failed
    for redemption in found.redemptions:
        _print_redemption(redemption)
    return 0


async def _export_quarter(options, settings: Settings):
    quarter = _quarter(options.quarter)
    if quarter is None:
        return None, 2
    request = points_pb2.ExportQuarterRequest(year=quarter[0], quarter=quarter[1])
    return await _call(settings, options, "ExportQuarter", request)


def _closed_line(exported: points_pb2.QuarterExport) -> str:
    closed_at = exported.closed_at.ToDatetime(tzinfo=UTC).isoformat()
    state = "closed now" if exported.newly_closed else "closed already"
    return (
        f"{exported.period} {state} (at {closed_at} by {exported.closed_by}): "
        f"{exported.reps} reps, {exported.total} points"
    )


async def _export(options, settings: Settings) -> int:
    exported, failed = await _export_quarter(options, settings)
    if failed:
        return failed
    content = exported.xlsx if options.format == "xlsx" else exported.csv
    options.output.write_bytes(content)
    print(f"wrote {options.output} ({len(content)} bytes)")
    print(_closed_line(exported))
    return 0


async def _close(options, settings: Settings) -> int:
    exported, failed = await _export_quarter(options, settings)
    if failed:
        return failed
    print(_closed_line(exported))
    return 0


async def _recalculate(options, settings: Settings) -> int:
    request = points_pb2.RecalculateRequest(
        quarter=options.quarter, label=options.label, dry_run=options.dry_run
    )
    found, failed = await _call(settings, options, "Recalculate", request)
    if failed:
        return failed
    for line in found.adjustments:
        print(
            f"{line.rep_id:<24} {line.rule:<28} {line.before:+5d} -> {line.after:+5d} "
            f"({line.points:+d}, {line.rule_version})  {line.event_id}"
        )
    verb = "would adjust" if options.dry_run else "adjusted"
    print(
        f"{found.events_repriced} events repriced; {verb} {len(found.adjustments)} items "
        f"by {found.points:+d} points"
    )
    return 0


async def _parked(options, settings: Settings) -> int:
    found, failed = await _call(
        settings, options, "ListParked", points_pb2.ListParkedRequest(limit=options.limit)
    )
    if failed:
        return failed
    for event in found.events:
        when = event.occurred_at.ToDatetime(tzinfo=UTC).isoformat()
        print(f"{when}  {event.event_type:<18} {event.rep_id:<24} {event.event_id}")
        print(f"    {event.reason}")
    return 0
