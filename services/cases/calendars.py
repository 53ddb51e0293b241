"""Publish an official working-day schedule to the running cases: they re-time their pending deadlines.

    python -m services.cases.calendars publish cn [--by officer.wang] [--file path/to/cn.json]

When a government publishes its holiday schedule (e.g. the State Council's schedule for 2027, with its
bridge days and make-up working days), the calendar file ``shared/rules/calendars/<code>.json`` is
updated (the year's ``status`` becomes ``official``, its ``version`` changes) and deployed; then an
operator runs this command. It sends the calendar, with its version, to every running case workflow
(``calendar_published`` signal). A case counting in that calendar recounts each pending deadline from
its start, moves its timer and escalation, clears the provisional flag where the official schedule now
covers it, and records every change in its history; cases counting in another calendar, or already on
that version, ignore it. Running it twice is harmless.

Needs ``TEMPORAL_ADDRESS`` and ``TEMPORAL_NAMESPACE`` (as the case worker).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict
from temporalio.client import Client
from temporalio.service import RPCError

from shared.contracts.cases import CASE_WORKFLOW_TYPE, SIGNAL_CALENDAR, CalendarUpdate
from shared.rules.calendar import CALENDARS, calendar_from_data
from shared.temporal import connect


class TemporalSettings(BaseSettings):
    """Where the case workflows run (the same variables as the case worker's)."""

    model_config = SettingsConfigDict(env_file=None, extra="ignore")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "customs-ipr"


RUNNING_CASES = f'WorkflowType = "{CASE_WORKFLOW_TYPE}" AND ExecutionStatus = "Running"'


def load(code: str, file: Path | None = None) -> dict:
    """The calendar data to publish (validated: it must load as a calendar and carry a version)."""
    path = file or CALENDARS / f"{code.lower()}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    calendar_from_data(data)
    if not data.get("version"):
        raise SystemExit(f"{path}: a calendar to publish carries a version")
    if data.get("calendar") != code.lower():
        raise SystemExit(f"{path} is calendar {data.get('calendar')!r}, not {code.lower()!r}")
    return data


async def publish(client: Client, data: dict, *, by: str | None = None, where: str | None = None) -> dict[str, int]:
    """Signal the calendar to every running case (``where``: a further visibility filter, e.g.
    ``DeclarationId = "..."``); how many were signalled and how many had closed meanwhile."""
    update = CalendarUpdate(calendar=data, version=data["version"], published_by=by)
    signalled = failed = 0
    async for execution in client.list_workflows(RUNNING_CASES + (f" AND ({where})" if where else "")):
        try:
            await client.get_workflow_handle(execution.id, run_id=execution.run_id).signal(SIGNAL_CALENDAR, update)
            signalled += 1
        except RPCError:  # closed meanwhile
            failed += 1
    return {"signalled": signalled, "not_signalled": failed}


async def _main(args: argparse.Namespace) -> None:
    settings = TemporalSettings()
    data = load(args.calendar, Path(args.file) if args.file else None)
    client = await connect(settings.temporal_address, settings.temporal_namespace)
    result = await publish(client, data, by=args.by, where=args.where)
    print(
        f"calendar {data['calendar']} version {data['version']}: {result['signalled']} running case(s) "
        f"signalled, {result['not_signalled']} closed meanwhile"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("publish", help="send a calendar to every running case")
    p.add_argument("calendar", help="calendar code: cn, de, us")
    p.add_argument("--by", default=None, help="who publishes it (recorded in each case history)")
    p.add_argument("--file", default=None, help="calendar file (default: the deployed shared/rules/calendars one)")
    p.add_argument(
        "--where",
        default=None,
        help="only cases matching this visibility filter, e.g. 'DeclarationId = \"CN5300-2026-0000123\"'",
    )
    asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
