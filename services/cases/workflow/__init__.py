"""The case workflow: the legal process of one consignment (declaration) and one rights holder.

A case holds the suspected lines of its declaration whose recorded rights belong to its holder
(``lines``); cases started before consignment cases hold one declaration line.

One workflow type (``CaseWorkflow``) runs every procedure; the jurisdiction's rule pack
supplies deadlines, guarantee and fine formulas, thresholds and the disposal order. The
workflow orchestrates; the step services act. Every step is an activity calling the owning
service with an idempotency key born here. Every deadline is a durable timer at the end of
its last day in the jurisdiction's calendar, and supervisors are alerted a set time before
it lapses.

Modules:
    definition    the workflow class: signals, the state query, dispatch by version/jurisdiction/mode
    state         CaseFile, what a running case knows, and the query snapshot
    calls         typed calls of the activities in ``services.cases.activities``
    steps         running a step: a service's refusal is an outcome, a step failing for long is escalated
    signals       decoding and checking signal payloads (a bad one is recorded as ignored, never raises)
    history       transitions and writing the history to the audit trail
    deadlines     deadlines, waiting on them, escalation timers
    notices       sending notices; ``texts`` holds their wording
    parties       notices to the parties (declarant, consignor, consignee, importer), watched until served
    holds         the hold on the goods
    guarantees    the holder's guarantee and the patent counter-guarantee
    disposition   disposition, release (of the case or of some lines) and the end state
    lines         the lines of the case: declaration revisions that add, withdraw or move them, decisions per line
    procedures/   cn, eu, us: one module per jurisdiction's procedure
    v1            the legacy v1 path, fenced off with its own state (cases started before v2)
"""

from services.cases.workflow.definition import (
    PATCH_FOUR_EYES,
    PATCH_PARTIES,
    PATCH_V2,
    PATCH_V3,
    PATCH_V4,
    PATCH_WITHDRAW,
    CaseWorkflow,
)

__all__ = ["PATCH_FOUR_EYES", "PATCH_PARTIES", "PATCH_V2", "PATCH_V3", "PATCH_V4", "PATCH_WITHDRAW", "CaseWorkflow"]
