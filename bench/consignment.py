"""The 10-line consignment on the running system: `make bench-consignment`. Prints figures; asserts nothing.

One export declaration of ten lines of the demo holder's NIKE shoes (620 pairs at USD 4.20 each, RMB 18,488.40
a line at the reference rate, RMB 184,884 in all) goes through intake, risk and the case worker of a running
test stack (``IPR_TEST_PORT_OFFSET`` selects which; start it with
``python -m deploy.local.stack up --profile test``). Then every case it opened is driven to its end the way a
holder and an officer would: the holder asks for detention with the guarantee the case requires, the officer
determines infringement. Printed: the cases, the guarantees asked of the holder in total, and whether the
police-referral threshold was reached.
"""

from __future__ import annotations

import asyncio
import copy
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from deploy.local import stack as stack_mod  # noqa: E402
from deploy.local import tokens as tokens_mod  # noqa: E402

T = TypeVar("T")

LINES = 10


def declaration(declaration_id: str) -> dict:
    base = json.loads((ROOT / "tests" / "contracts" / "declaration.v1.example.json").read_text())
    shoe = base["lines"][0]
    lines = []
    for n in range(1, LINES + 1):
        line = copy.deepcopy(shoe)
        line.update(line_no=n, quantity=620, model=f"AIR MAX {88 + n}")
        lines.append(line)
    return {**base, "declaration_id": declaration_id, "lines": lines}


async def poll(probe: Callable[[], Awaitable[T | None]], within: float = 60.0) -> T:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(0.3)
    raise SystemExit("timed out waiting for the running system")


async def main() -> None:
    profile = stack_mod.PROFILES["test"]
    sec = stack_mod.load_secrets(profile)
    url = {name: f"http://127.0.0.1:{port}" for name, port in profile.service_ports.items()}

    def bearer(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {tokens_mod.token_for(profile, sec, role).access_token}"}

    # the demo accounts: an officer of CN5300, a user of the NIKE holder RH-0001, a clearance system
    officer, holder, clearance = bearer("officer"), bearer("rights_holder"), bearer("clearance_system")
    supervisor = bearer("supervisor")  # four eyes: a confiscation takes effect once a supervisor approves it
    body = declaration(f"CN5300-BENCH-{uuid.uuid4().hex[:8].upper()}")
    async with httpx.AsyncClient(timeout=30) as http:
        r = await http.post(f"{url['intake']}/v1/declarations", json=body, headers=clearance)
        r.raise_for_status()

        async def assessed() -> dict | None:
            v = (await http.get(f"{url['intake']}/v1/declarations/{body['declaration_id']}", headers=officer)).json()
            return v if v.get("status") == "assessed" and v.get("case_ids") else None

        view = await poll(assessed)
        case_ids = view["case_ids"]

        async def state(case_id: str, wanted: set[str]) -> dict | None:
            r = await http.get(f"{url['cases']}/v1/cases/{case_id}", headers=officer)
            return r.json() if r.status_code == 200 and r.json()["state"] in wanted else None

        cases = [await poll(lambda c=c: state(c, {"suspended"})) for c in case_ids]
        required = [Decimal(c["required_guarantee"]) for c in cases]
        value_cny = sum(Decimal(ln["quantity"]) * Decimal(str(ln["unit_value"])) for ln in body["lines"]) * Decimal(
            "7.10"
        )
        print(f"declaration {body['declaration_id']}: {LINES} lines of NIKE shoes, consignment RMB {value_cny:,.2f}")
        print(f"cases opened: {len(case_ids)}")
        for c in cases:
            print(
                f"  {c['case_id']}: lines {[ln['line_no'] for ln in c.get('lines') or []] or [c['line_no']]}, "
                f"required guarantee RMB {Decimal(c['required_guarantee']):,.2f}"
            )
        print(f"guarantees asked of the holder: RMB {sum(required):,.2f}")

        for c in cases:
            notices = (
                await http.get(f"{url['notify']}/v1/notices", params={"case_id": c["case_id"]}, headers=holder)
            ).json()
            suspension = next(n for n in notices if n["kind"] == "suspension")
            r = await http.post(
                f"{url['notify']}/v1/notices/{suspension['notice_id']}/reply",
                headers=holder,
                json={
                    "decision": "detain",
                    "guarantee": {
                        "amount": c["required_guarantee"],
                        "currency": "CNY",
                        "form": "bank_letter",
                        "reference": f"LG-{c['case_id']}",
                    },
                },
            )
            r.raise_for_status()
        for c in cases:
            await poll(lambda c=c: state(c["case_id"], {"detained"}))
            r = await http.post(
                f"{url['cases']}/v1/cases/{c['case_id']}/determination",
                headers=officer,
                json={"outcome": "infringing", "fine_tier": "ordinary"},
            )
            r.raise_for_status()
        for c in cases:
            for _ in range(100):  # once the case has recorded the proposal
                r = await http.post(
                    f"{url['cases']}/v1/cases/{c['case_id']}/approval",
                    headers=supervisor,
                    json={"decision": "approve", "note": "checked"},
                )
                if r.status_code != 409:
                    break
                await asyncio.sleep(0.2)
            r.raise_for_status()
        ended = [await poll(lambda c=c: state(c["case_id"], {"confiscated", "hearing"})) for c in cases]
        referred = [c["case_id"] for c in ended if c.get("police_referral")]
        print(
            "police referral (threshold RMB 50,000): "
            + (f"reached in {', '.join(referred)}" if referred else "never reached")
        )
        fines = sum(Decimal(c["fine_amount"] or 0) for c in ended if c["state"] == "confiscated")
        print(f"fines decided: RMB {fines:,.2f} ({', '.join(sorted({c['state'] for c in ended}))})")


if __name__ == "__main__":
    asyncio.run(main())
