"""`make backup` / `make restore`: every store of a running stack copied, and restored into a fresh stack that
finds declarations, recordations, cases, guarantees and notices intact -- and goes on working."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from deploy.local import stack as stack_mod
from services.web.storage import ObjectStore
from shared.contracts.cases import consignment_case_id
from shared.contracts.events import TOPIC_DECLARATIONS
from shared.rules.calendar import calendar_for
from tests.conftest import Stack
from tests.factories import example_declaration
from tests.helpers import case_in_state, eventually, find_on_topic, unique_id

pytestmark = pytest.mark.integration


def evidence_store(stack: Stack) -> ObjectStore:
    """The stack's object store (evidence, holders' answers, guide images), as the web service reaches it."""
    return ObjectStore(
        f"http://127.0.0.1:{stack.profile.s3_port}",
        "us-east-1",
        stack.secrets["OBJECT_STORE_ACCESS_KEY"],
        stack.secrets["OBJECT_STORE_SECRET_KEY"],
        stack_mod.OBJECT_BUCKET,
    )


def fresh_profile() -> stack_mod.Profile:
    """A second test stack beside the session's: ports shifted by 18 (clear of every port of the session's stack,
    the benchmarks' and the stacks at other offsets a hundred apart), data in .data-test-<offset>-restore/."""
    offset = int(os.environ.get("IPR_TEST_PORT_OFFSET", "0"))
    return dataclasses.replace(
        stack_mod._test_profile(offset + 18), name="restore", data=stack_mod.ROOT / f".data-test-{offset}-restore"
    )


@pytest.mark.timeout(900)  # a second stack of its own is started, with a restore in between
async def test_backup_then_restore_into_a_fresh_stack(http, stack, tmp_path) -> None:
    # What there is to keep: a declaration with its case and notice, a general guarantee, the demo recordations.
    body = example_declaration(declaration_id=unique_id("CN5300-BAK"))
    assert (
        await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    ).status_code == 202
    case_id = consignment_case_id(body["declaration_id"], "RH-0001")
    case = await case_in_state(http, stack, case_id, "suspended", within=60)
    notices = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()
    assert len(notices) == 1
    today = calendar_for("CN").local_date(datetime.now(UTC))
    guarantee = {
        "guarantee_id": unique_id("GG-BAK"),
        "holder_id": "RH-0001",
        "jurisdiction": "CN",
        "amount": "250000.00",
        "currency": "CNY",
        "coverage_from": (today - timedelta(days=10)).isoformat(),
        "coverage_until": (today + timedelta(days=200)).isoformat(),
        "letter_expires_on": (today + timedelta(days=400)).isoformat(),
        "issuer": "Bank of China, Shanghai Branch",
        "reference": unique_id("BOC-LG"),
    }
    assert (
        await http.post(
            f"{stack.url('guarantees')}/v1/general-guarantees", json=guarantee, headers=stack.auth("officer")
        )
    ).status_code == 201
    recordation = (
        await http.get(f"{stack.url('risk')}/v1/recordations/CN-T-2019-004211", headers=stack.auth("officer"))
    ).json()

    photo_key = f"evidence/{case_id}/{unique_id('photo')}.jpg"
    photo = os.urandom(2048)
    await evidence_store(stack).put(photo_key, photo, "image/jpeg")

    folder = await asyncio.to_thread(stack_mod.backup, stack.profile, tmp_path / "backup")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"broker", "temporal", "objects", *stack_mod.DATABASES}
    order = manifest["order"]
    assert order.index("broker") < order.index("intake") < order.index("temporal") < order.index("holds")

    fresh = fresh_profile()
    stack_mod.down(fresh)
    shutil.rmtree(fresh.data, ignore_errors=True)
    # Secrets are not in a backup: the restored stack gets them from the secret store (here, the session's file),
    # or its accounts' passwords and its clients' secrets would not match the digests in the identity database.
    fresh.data.mkdir(parents=True)
    shutil.copyfile(stack.profile.data / ".env", fresh.data / ".env")
    try:
        await asyncio.to_thread(stack_mod.restore, fresh, folder, start=True, demo=False)
        restored = Stack(profile=fresh, secrets=stack_mod.load_secrets(fresh))
        officer = restored.auth("officer")  # a sign-in at the restored stack's own provider
        holder = restored.auth("holder")
        async with httpx.AsyncClient(timeout=30) as client:
            view = (
                await client.get(f"{restored.url('intake')}/v1/declarations/{body['declaration_id']}", headers=officer)
            ).json()
            assert view["status"] == "assessed" and view["case_ids"] == [case_id]
            assert (
                view["declaration"]
                == (
                    await http.get(
                        f"{stack.url('intake')}/v1/declarations/{body['declaration_id']}", headers=stack.auth("officer")
                    )
                ).json()["declaration"]
            )
            again = (
                await client.get(f"{restored.url('risk')}/v1/recordations/CN-T-2019-004211", headers=officer)
            ).json()
            assert again["version"] == recordation["version"] and again["status"] == recordation["status"]
            restored_case = (await client.get(f"{restored.url('cases')}/v1/cases/{case_id}", headers=officer)).json()
            assert restored_case["state"] == "suspended"
            assert restored_case["deadlines"] == case["deadlines"]
            gg = (
                await client.get(
                    f"{restored.url('guarantees')}/v1/general-guarantees/{guarantee['guarantee_id']}", headers=officer
                )
            ).json()
            assert gg["amount"] == guarantee["amount"] and gg["holder_id"] == "RH-0001"
            restored_notices = (
                await client.get(f"{restored.url('notify')}/v1/notices?case_id={case_id}", headers=holder)
            ).json()
            assert [n["notice_id"] for n in restored_notices] == [n["notice_id"] for n in notices]
            # the examination evidence came back too, served by the restored object store
            assert await evidence_store(restored).get(photo_key) == photo
            # the broker's data came back too: the declaration's record is on its topic
            kafka = f"127.0.0.1:{fresh.broker_port}"
            await find_on_topic(kafka, TOPIC_DECLARATIONS, lambda v: v.get("declaration_id") == body["declaration_id"])

            # and the restored platform works: a new declaration is assessed and opens its case
            new = example_declaration(declaration_id=unique_id("CN5300-RST"))
            assert (
                await client.post(
                    f"{restored.url('intake')}/v1/declarations", json=new, headers=restored.auth("clearance")
                )
            ).status_code == 202

            async def assessed():
                r = await client.get(
                    f"{restored.url('intake')}/v1/declarations/{new['declaration_id']}", headers=officer
                )
                return r.json()["status"] == "assessed" or None

            await eventually(assessed, within=120, what="a declaration assessed on the restored stack")
            await case_in_state(
                client, restored, consignment_case_id(new["declaration_id"], "RH-0001"), "suspended", within=60
            )
    finally:
        stack_mod.down(fresh)
        shutil.rmtree(fresh.data, ignore_errors=True)
