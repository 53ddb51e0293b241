"""Record event histories of every case path for the replay test.

    python -m tests.workflows.record_histories <label>

Runs each path of the current CaseWorkflow under the time-skipping test server with the
fake step services of the workflow tests (refusing or failing where the path says so,
``scenarios.FAULTY``) and writes ``histories/<label>_<path>.json``.
Run it after each released change of the workflow: the replay test then proves that the
new code still replays every saved history (``workflow.patched`` keeps old paths alive).
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.workflows import scenarios

HERE = Path(__file__).with_name("histories")


async def main(label: str) -> None:
    path = Path(sys.executable).with_name("temporal-test-server")
    env = await WorkflowEnvironment.start_time_skipping(
        data_converter=pydantic_data_converter, test_server_existing_path=str(path)
    )
    HERE.mkdir(exist_ok=True)
    try:
        paths = {name: (scenario, {}) for name, scenario in scenarios.ALL.items()} | scenarios.FAULTY
        for name, (scenario, behaviour) in paths.items():
            fakes = scenarios.FakeServices(**behaviour)
            queue = f"record-{name}"
            async with Worker(
                env.client, task_queue=queue, workflows=[scenarios.workflow_class()], activities=fakes.activities()
            ):
                handle = await scenario(env, queue)
                await handle.result()
                history = await handle.fetch_history()
            out = HERE / f"{label}_{name}.json"
            out.write_text(json.dumps(json.loads(history.to_json()), indent=None))
            print(f"wrote {out.relative_to(HERE.parent)}")
    finally:
        await env.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    asyncio.run(main(sys.argv[1]))
