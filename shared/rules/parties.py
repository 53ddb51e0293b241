"""Who the law gives each notice of a case to, and which party may answer what, by when.

One answer to the legal questions about the parties of a case (the declarant, consignor and
consignee of the declaration; the importer in the US), used by the case workflow (who receives a
notice, which deadline its service starts) and by the cases API (whether a party's answer is
admissible, and until when). Pure: no I/O.

Notices to parties (cases started under ``case-parties``), each with its addressee, time limit, the clock
its service starts, and its basis:

- CN ``party_detention`` (detention receipt): the consignee (import) or consignor (export, transit); at
  detention; no clock. Reg. Art. 16, 18; Measures Art. 21.
- CN ``hearing_right``: the party to be fined (as above), before a fine above the hearing threshold; starts
  the hearing request window (3 WD). Penalty Regs Art. 49.
- CN ``penalty_decision``: the party fined, with the confiscation; no clock (appeal periods run under their
  own law). Penalty Regs Art. 25, 53; Administrative Penalty Law Art. 59-61.
- EU ``party_detention`` (notice of suspension / detention): the declarant, else the holder of the goods;
  within 1 working day; starts the declarant's 10 WD (3 WD perishable; small consignments 10 WD) to agree
  or object to destruction. Reg. (EU) 608/2013 Art. 17(3), 18(3), 23(1), 26(4).
- US ``party_detention`` (notice of detention): the importer (the consignee, the declarant when no
  consignee is known); within 5 business days; starts the importer's 7 business days. 19 CFR 133.21(b).

A notice counts as served when it is delivered (the recipient's mail server accepted it, or its
registered webhook answered 2xx) or when an officer records service on paper; a notice that cannot be
delivered starts no clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class _Party(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def name(self) -> str: ...


class _Parties(Protocol):
    @property
    def jurisdiction(self) -> str: ...

    @property
    def direction(self) -> str | None: ...

    @property
    def declarant(self) -> _Party | None: ...

    @property
    def consignor(self) -> _Party: ...

    @property
    def consignee(self) -> _Party: ...


@dataclass(frozen=True)
class PartyNoticeRule:
    """A notice the law gives a party: its legal basis and the deadline (of the rule pack) its service starts."""

    kind: str
    basis: str
    clock: str | None = None  # the pack deadline counted from the day of service; None: no clock


NOTICE_BASIS: dict[tuple[str, str], str] = {
    ("CN", "party_detention"): "CN Reg. Art. 16, 18; GACC Measures Art. 21 (detention receipt to the consignee "
    "or consignor)",
    ("CN", "hearing_right"): "CN Penalty Regs Art. 49; Administrative Penalty Law Art. 63-64 (the party to be fined)",
    ("CN", "penalty_decision"): "CN Penalty Regs Art. 25, 53; Administrative Penalty Law Art. 59-61",
    ("EU", "party_detention"): "Reg. (EU) No 608/2013 Art. 17(3), 18(3) (within 1 working day), 23(1), 26(4)",
    ("US", "party_detention"): "19 CFR 133.21(b) (notice of detention within 5 business days; 7 business days "
    "for the importer)",
}


def goods_party_role(direction: str | None) -> str:
    """The party the goods belong to at the border: the consignee on import, the consignor on export/transit."""
    return "consignee" if direction == "import" else "consignor"


def addressee(case: _Parties, kind: str) -> tuple[str, _Party] | None:
    """The role and party the law gives notice ``kind`` to in the case's jurisdiction (None: no party gets it).

    CN: the detention receipt, the hearing-right notice and the penalty decision go to the party whose goods
    they are (the consignee on import, the consignor on export) - the party to be fined.
    EU: the notice of suspension/detention goes to the declarant, else to the holder of the goods.
    US: the notice of detention goes to the importer: the consignee, else the declarant.
    """
    j = case.jurisdiction
    if j == "CN" and kind in ("party_detention", "hearing_right", "penalty_decision"):
        role = goods_party_role(case.direction)
        return role, case.consignee if role == "consignee" else case.consignor
    if j == "EU" and kind == "party_detention":
        if case.declarant is not None:
            return "declarant", case.declarant
        return "holder_of_goods", case.consignee if case.direction == "import" else case.consignor
    if j == "US" and kind == "party_detention":
        if case.consignee is not None:
            return "importer", case.consignee
        if case.declarant is not None:
            return "importer", case.declarant
    return None


def basis(jurisdiction: str, kind: str) -> str | None:
    """The legal basis of a party notice, for the history and the notice."""
    return NOTICE_BASIS.get((jurisdiction, kind))


def roles_of(case: _Parties, party_id: str) -> set[str]:
    """Every role ``party_id`` holds in the case (a declarant may also be the consignee)."""
    roles = set()
    if case.declarant is not None and case.declarant.id == party_id:
        roles.add("declarant")
    if case.consignor.id == party_id:
        roles.add("consignor")
    if case.consignee.id == party_id:
        roles.add("consignee")
    if case.jurisdiction == "EU" and goods_party_role(case.direction) in roles:
        roles.add("holder_of_goods")
    found = addressee(case, "party_detention")
    if found is not None and found[1].id == party_id:
        roles.add(found[0])  # the importer (US), the holder of the goods (EU)
    return roles


@dataclass(frozen=True)
class AnswerRule:
    """An answer a party may give in a jurisdiction: who may give it and the deadlines it must meet."""

    jurisdictions: frozenset[str]
    roles: frozenset[str]  # the party's roles in the case that may give it
    deadlines: tuple[str, ...]  # the answer must come before the first of these that has closed
    states: frozenset[str]  # case states in which it is taken
    basis: str


_CN_GOODS = frozenset({"consignee", "consignor"})
ANSWERS: dict[str, AnswerRule] = {
    "agrees_to_destruction": AnswerRule(
        frozenset({"EU"}),
        frozenset({"declarant", "holder_of_goods"}),
        ("declarant_consent", "small_consignment_declarant"),
        frozenset({"awaiting_application", "detained"}),
        "Reg. (EU) No 608/2013 Art. 23(1)(c), 26(5)",
    ),
    "objects_to_destruction": AnswerRule(
        frozenset({"EU"}),
        frozenset({"declarant", "holder_of_goods"}),
        ("declarant_consent", "small_consignment_declarant"),
        frozenset({"awaiting_application", "detained"}),
        "Reg. (EU) No 608/2013 Art. 23(1)(c), 26(6)",
    ),
    "non_infringement_statement": AnswerRule(
        frozenset({"CN"}), _CN_GOODS, (), frozenset({"suspended", "detained", "undetermined"}), "CN Reg. Art. 18"
    ),
    "hearing_request": AnswerRule(
        frozenset({"CN"}), _CN_GOODS, ("hearing_request",), frozenset({"hearing"}), "CN Penalty Regs Art. 49"
    ),
    "hearing_waiver": AnswerRule(
        frozenset({"CN"}), _CN_GOODS, ("hearing_request",), frozenset({"hearing"}), "CN Penalty Regs Art. 49"
    ),
    "importer_response": AnswerRule(
        frozenset({"US"}),
        frozenset({"importer"}),
        ("importer_response",),
        frozenset({"detained"}),
        "19 CFR 133.21(b)(2)",
    ),
}


def answer_problem(case: _Parties, kind: str, roles: set[str]) -> tuple[str, str] | None:
    """Why a party holding ``roles`` may not give answer ``kind`` in this case: (code, message), or None."""
    rule = ANSWERS.get(kind)
    if rule is None:
        return "unknown_answer", f"{kind} is not an answer a party gives"
    if case.jurisdiction not in rule.jurisdictions:
        return "answer_not_in_jurisdiction", f"{kind} is not part of the {case.jurisdiction} procedure"
    allowed = roles & rule.roles
    if not allowed:
        return "not_your_answer", (
            f"{kind} is given by the {' or '.join(sorted(rule.roles))} of the goods; you are "
            f"the {' and '.join(sorted(roles)) or 'no party'} of this case"
        )
    return None
