"""The lines of a consignment case: revisions that add or withdraw them, and decisions per line.

A declaration revision is a signal (``lines_revised``) carrying the lines the risk service now
suspects of this holder's rights. The case takes them until customs has decided on the goods:
new lines join (their goods are suspended, and detained if the case already is), lines no longer
listed leave it (released, or moved to the case of the holder they now belong to, which names
where they came from), and the history records each. Lines an officer or applicant added by hand
stay while they are in the declaration. When every line has left, the case ends released.

A determination (or a US officer's finding) may decide lines apart: ``lines`` names the lines
whose outcome differs from the case's; lines not infringing are released at once and the rest
go on.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow

from services.cases.workflow.disposition import release_lines
from services.cases.workflow.guarantees import recompute_required
from services.cases.workflow.history import flush
from services.cases.workflow.holds import hold
from services.cases.workflow.notices import notify
from services.cases.workflow.state import CaseFile, LineChange

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import TERMINAL_STATES, Determination, LinesRevision

DETAINED_STATES = ("detained", "undetermined", "awaiting_application")


def summary(f: CaseFile) -> list[dict[str, Any]]:
    return [
        {
            "line_no": ln.line_no,
            "recordation_id": ln.recordation_id,
            "mark": ln.mark,
            "marks": sorted({h.mark for h in ln.hits} | {ln.mark}),
            "quantity": str(ln.quantity),
            "unit": ln.unit,
            "goods_value": str(ln.goods_value),
            "goods_value_cny": str(ln.goods_value_cny) if ln.goods_value_cny is not None else None,
            "score": ln.score,
            "source": ln.source,
        }
        for _, ln in sorted(f.lines.items())
    ]


def open_for_changes(f: CaseFile) -> bool:
    """Lines may join or leave until customs has decided on the goods."""
    return (
        f.state not in TERMINAL_STATES
        and f.state not in ("hearing", "seized")
        and f.determination is None
        and not f.submitted("confirms_infringement")
    )


# ---------------------------------------------------------------- decisions per line


def line_outcomes(f: CaseFile, det: Determination) -> dict[int, str]:
    """The outcome of every held line: the case's, unless the determination names the line."""
    outcome: dict[int, str] = {ln.line_no: det.outcome for ln in f.held_lines()}
    outcome.update({d.line_no: d.outcome for d in det.lines if d.line_no in outcome})
    return outcome


def determination_problem(f: CaseFile, det: Determination) -> str | None:
    """Why a determination cannot be taken as it is (None: it can)."""
    if f.case.jurisdiction == "US" and f.v4 and det.outcome == "cannot_determine":
        return "a US officer either finds the goods counterfeit or releases them"
    if not det.lines:
        return None
    held = {ln.line_no for ln in f.held_lines()}
    unknown = sorted({d.line_no for d in det.lines} - held)
    if unknown:
        return f"lines {unknown} are not held in this case"
    rest = {o for o in line_outcomes(f, det).values() if o != "not_infringing"}
    if len(rest) > 1:
        return "lines not released must share one outcome (infringing or cannot_determine)"
    return None


def infringes(f: CaseFile, det: Determination) -> bool:
    """Whether the determination finds any line of the case infringing (four-eyes: it is then a proposal)."""
    if not det.lines:
        return det.outcome == "infringing"
    return "infringing" in line_outcomes(f, det).values()


async def apply_line_determination(f: CaseFile) -> str:
    """Release the lines found not infringing; the outcome for the lines that remain."""
    det = f.determination
    assert det is not None
    if not det.lines:
        for n in [ln.line_no for ln in f.held_lines()]:
            f.line_outcome[n] = det.outcome
        return det.outcome
    outcomes = line_outcomes(f, det)
    f.line_outcome.update(outcomes)
    cleared = sorted(n for n, o in outcomes.items() if o == "not_infringing")
    rest = [n for n in outcomes if n not in cleared]
    if not rest:
        return "not_infringing"
    if cleared:
        await release_lines(f, cleared, "customs determined that the goods of these lines do not infringe")
    return outcomes[rest[0]]


# ---------------------------------------------------------------- revisions


def apply_revision(f: CaseFile, rev: LinesRevision) -> None:
    """Take a declaration revision (or lines added by hand) on the signal side; the hold follows in
    ``follow_changes``."""
    own = f.case.case_id
    if not f.v4:
        f.log("lines_revision_ignored", {"revision": rev.revision, "why": "a per-line case keeps its one line"})
        return
    if rev.declaration_id != f.case.declaration_id:
        f.log(
            "lines_revision_ignored",
            {"revision": rev.revision, "why": f"declaration {rev.declaration_id} is not this case's"},
        )
        return
    if rev.kind == "revision" and rev.revision <= f.revision:
        if rev.revision == f.revision and not f.origins_noted:
            # The revision the case opened with (signal-with-start): lines that came from another case say so.
            f.origins_noted = True
            for n, came_from in sorted(rev.previous_line_cases.items()):
                if n in f.lines and came_from != own:
                    line = f.lines[n]
                    f.log(
                        "line_joined",
                        {
                            "line_no": n,
                            "recordation_id": line.recordation_id,
                            "mark": line.mark,
                            "goods_value": str(line.goods_value),
                            "source": line.source,
                            "by": rev.by,
                            "from_case": came_from,
                        },
                    )
        return  # a redelivered revision changes nothing
    if f.state in TERMINAL_STATES:
        f.log("lines_revision_ignored", {"revision": rev.revision, "why": f"the case is closed ({f.state})"})
        return
    incoming = {ln.line_no: ln for ln in rev.lines}
    added = sorted(n for n in incoming if n not in f.lines)
    updated = sorted(
        n
        for n in incoming
        if n in f.lines and incoming[n].model_copy(update={"source": f.lines[n].source}) != f.lines[n]
    )
    withdrawn: list[int] = []
    if rev.kind == "revision":
        declared = set(rev.consignment.declaration_line_nos) if rev.consignment else None
        for n, line in sorted(f.lines.items()):
            if n in incoming or (line.source != "risk" and (declared is None or n in declared)):
                continue
            withdrawn.append(n)
        f.revision = rev.revision
    if rev.consignment is not None and rev.kind == "revision":
        f.consignment = rev.consignment
    if not (added or updated or withdrawn):
        if rev.kind == "revision":
            f.log("declaration_revised", {"revision": rev.revision, "lines": "unchanged"})
        return
    if not open_for_changes(f):
        f.log(
            "revision_not_applied",
            {
                "revision": rev.revision,
                "added": added,
                "withdrawn": withdrawn,
                "updated": updated,
                "why": "customs has already decided on the goods",
            },
        )
        return
    if rev.kind == "revision":
        f.log(
            "declaration_revised",
            {"revision": rev.revision, "added": added, "withdrawn": withdrawn, "updated": updated, "by": rev.by},
        )
    for n in added:
        line = incoming[n]
        f.lines[n] = line
        f.withdrawn_lines.pop(n, None)
        f.moved_to.pop(n, None)
        f.line_status[n] = "held"
        came_from = rev.previous_line_cases.get(n)
        f.log(
            "line_joined",
            {
                "line_no": n,
                "recordation_id": line.recordation_id,
                "mark": line.mark,
                "goods_value": str(line.goods_value),
                "source": line.source,
                "by": rev.by,
                "from_case": came_from if came_from and came_from != own else None,
            },
        )
    for n in updated:
        f.lines[n] = incoming[n].model_copy(update={"source": f.lines[n].source})
        f.log(
            "line_updated",
            {"line_no": n, "quantity": str(f.lines[n].quantity), "goods_value": str(f.lines[n].goods_value)},
        )
    for n in withdrawn:
        f.withdrawn_lines[n] = f.lines.pop(n)
        f.line_status[n] = "withdrawn"
        to = rev.line_cases.get(n)
        if to and to != own:
            f.moved_to[n] = to
            f.log(
                "line_moved",
                {
                    "line_no": n,
                    "to_case": to,
                    "revision": rev.revision,
                    "why": "the line is now suspected of another holder's right",
                },
            )
        else:
            f.log(
                "line_withdrawn",
                {
                    "line_no": n,
                    "revision": rev.revision,
                    "why": "the line is no longer in the declaration"
                    if rev.consignment and n not in rev.consignment.declaration_line_nos
                    else "no longer suspected",
                },
            )
    if not f.lines:
        f.withdrawn_all = f"declaration revision {rev.revision} took every line out of the case"
        return
    if added or withdrawn:
        f.line_change_seq += 1
        f.line_changes.append(
            LineChange(revision=rev.revision, added=added, withdrawn=withdrawn, seq=f.line_change_seq)
        )


async def follow_changes(f: CaseFile) -> None:
    """Runs beside the procedure: the hold follows the lines that joined or left, the holder is told."""
    while True:
        await workflow.wait_condition(lambda: bool(f.line_changes) and f.hold_id is not None)
        change = f.line_changes.pop(0)
        if f.state in TERMINAL_STATES:
            return
        why = f"declaration revision {change.revision}"
        # (A hold placed after the revision arrived already covers them: the holds service takes that as done.)
        joining = [n for n in change.added if n in f.lines]
        if joining:
            await hold(f, "suspend", f"{why}: suspected line(s) join the case", lines=joining)
            if f.state in DETAINED_STATES:
                await hold(f, "detain", f"{why}: the case's goods are detained", lines=joining)
        # Only lines the hold covers are released (a line withdrawn before the hold was placed never was held).
        leaving = [n for n in change.withdrawn if n in f.hold_lines and n not in f.lines]
        if leaving:
            await hold(f, "release", f"{why}: line(s) left the case", lines=leaving)
        recompute_required(f)
        parts = []
        if change.added:
            parts.append(f"lines {', '.join(map(str, change.added))} joined the case")
        if change.withdrawn:
            parts.append(f"lines {', '.join(map(str, change.withdrawn))} left it")
        await notify(f, "lines_changed", extra="; ".join(parts).capitalize() + ".", key=f"lines_changed:{change.seq}")
        await flush(f)
