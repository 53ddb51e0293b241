"""The workbench and portal without a server: every page's strings in Chinese, uploads checked by content,
names made safe, declaration text escaped, the pages' CSP, time left in working days."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag

from services.web import i18n, storage
from services.web.auth import TokenBox, safe_return
from services.web.pages import csp, env
from shared.rules.calendar import calendar_for, working_days_left

WEB = Path(__file__).resolve().parents[2] / "services" / "web"


def _image(fmt: str) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (24, 16), (180, 40, 40)).save(out, fmt)
    return out.getvalue()


PNG = _image("PNG")
JPEG = _image("JPEG")
WEBP = _image("WEBP")
PDF = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _strings_in_templates() -> set[str]:
    found: set[str] = set()
    for path in (WEB / "templates").rglob("*.html"):
        text = path.read_text()
        found |= set(re.findall(r'_\("((?:[^"\\]|\\.)*)"', text))
        found |= set(re.findall(r"_\('((?:[^'\\]|\\.)*)'", text))
    for path in WEB.glob("*.py"):
        found |= set(re.findall(r'ctx\._\(\s*"((?:[^"\\]|\\.)*)"', path.read_text()))
        found |= set(re.findall(r"ctx\._\(msg\)|FLASHES = \{", path.read_text())) - {"ctx._(msg)", "FLASHES = {"}
    return {s.encode().decode("unicode_escape") if "\\u" in s else s for s in found}


def test_every_string_of_every_page_has_its_chinese() -> None:
    strings = _strings_in_templates()
    from services.web.pages import FLASHES

    strings |= set(FLASHES.values())
    assert len(strings) > 150
    missing = sorted(s for s in strings if s not in i18n.ZH and not s.startswith("{"))
    assert missing == []


def test_translation_keeps_placeholders() -> None:
    for english, chinese in i18n.ZH.items():
        assert set(re.findall(r"\{(\w+)\}", english)) == set(re.findall(r"\{(\w+)\}", chinese)), english
    assert i18n.t("zh", "{n} working days left", n=3) == "剩余 3 个工作日"
    assert i18n.time_left("en", 0) == "due today" and i18n.time_left("en", -2) == "2 working days overdue"
    assert i18n.label("zh", "detained") == "已扣留" and i18n.label("en", "some_new_code") == "some new code"


def test_declaration_text_is_escaped_on_the_pages() -> None:
    template = env.get_template("workbench/worklist.html")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    page = template.render(
        who=None,
        lang="en",
        _=lambda s, **v: i18n.t("en", s, **v),
        label=lambda c: i18n.label("en", c),
        money=lambda v, c=None: str(v),
        number=str,
        when=lambda v, tz=None: str(v),
        day=str,
        time_left=lambda n: i18n.time_left("en", n),
        flash=None,
        csrf="t",
        path="/workbench",
        query="",
        data={
            "total": 1,
            "items": [
                {
                    "case_id": "IPR-X-L1",
                    "state": "detained",
                    "customs_office": "CN5300",
                    "jurisdiction": "CN",
                    "manifest_id": None,
                    "next_deadline": None,
                    "failed": False,
                    "escalated": False,
                    "pending_approval": None,
                    "mark": evil,
                    "description": evil,
                    "holder_name": evil,
                    "origin_country": "CN",
                    "destination_country": "US",
                    "direction": "export",
                    "transport_mode": "sea",
                    "goods_value": "1",
                    "currency": "USD",
                    "assignee": None,
                }
            ],
        },
        filters={},
        mine=False,
        closed=False,
        unassigned=False,
        offset=0,
        page=50,
        base={},
        error=None,
        states=(),
        directions=(),
        transport=(),
        fine_tiers=("ordinary",),
    )
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page


def test_content_security_policy_allows_only_the_sites_own_scripts() -> None:
    policy = csp("http://127.0.0.1:8010")
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert "form-action 'self' http://127.0.0.1:8010" in policy
    for path in (WEB / "templates").rglob("*.html"):
        text = path.read_text()
        assert "<script>" not in text and " on" + "click=" not in text and "style=" not in text, path


@pytest.mark.parametrize(
    ("data", "mime"), [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"), (PDF, "application/pdf")]
)
def test_uploads_are_typed_by_their_content(data: bytes, mime: str) -> None:
    assert storage.check(data, "photo.exe", 1024) == (mime, f"photo.{storage.ALLOWED[mime]}")


@pytest.mark.parametrize(
    "data",
    [
        b"\x89PNG\r\n\x1a\n",  # the signature alone
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        PNG[: len(PNG) // 2],  # cut off in its pixel data
        PNG[:-12] + b"\x00" * 12,  # no end chunk
        bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000") + b"\x00" * 40,
        JPEG[: len(JPEG) // 2],
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 40,
        WEBP[: len(WEBP) - 8],
        b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n",  # no end-of-file marker: cut short
    ],
)
def test_a_signature_without_a_whole_file_behind_it_is_refused(data: bytes) -> None:
    with pytest.raises(storage.UploadRefused) as refused:
        storage.check(data, "evidence.png", 1024)
    assert refused.value.code == "corrupt_file"


def test_an_image_beyond_the_pixel_limit_is_refused_before_it_is_decoded() -> None:
    from PIL import Image

    out = io.BytesIO()
    Image.new("1", (12_000, 10_100)).save(out, "PNG")  # 121 million pixels, a few hundred kilobytes
    with pytest.raises(storage.UploadRefused) as refused:
        storage.check(out.getvalue(), "mural.png", 20 * 1024 * 1024)
    assert refused.value.code == "image_too_large"


@pytest.mark.parametrize(
    "data",
    [
        b"<html><script>alert(1)</script></html>",
        b"MZ\x90\x00" + b"\x00" * 60,
        b"GIF89a" + b"\x00" * 40,
        b"PK\x03\x04" + b"\x00" * 40,
        b"%PDX-1.7 fake",
    ],
)
def test_other_content_is_refused_whatever_its_name(data: bytes) -> None:
    with pytest.raises(storage.UploadRefused) as refused:
        storage.check(data, "evidence.jpg", 1024)
    assert refused.value.code == "unsupported_type"


def test_size_and_emptiness_are_checked() -> None:
    with pytest.raises(storage.UploadRefused, match="at most"):
        storage.check(PNG + b"\x00" * 2000, "a.png", 1024)
    with pytest.raises(storage.UploadRefused) as empty:
        storage.check(b"", "a.png", 1024)
    assert empty.value.code == "empty_file"


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../etc/passwd.png", "passwd.png"),
        ("C:\\Users\\x\\shoe 1.PNG", "shoe 1.png"),
        ('a"b<c>;rm -rf.png', "abcrm -rf.png"),
        ("鞋子\u202egnp.exe", "鞋子gnp.png"),
        ("", "file.png"),
        ("...", "file.png"),
        ("x" * 300 + ".png", "x" * 80 + ".png"),
    ],
)
def test_file_names_are_sanitised(name: str, safe: str) -> None:
    assert storage.safe_name(name, "image/png") == safe


def test_object_keys_are_generated_not_chosen() -> None:
    key = storage.new_key("evidence", "IPR-../../x~RH-1", "image/png")
    assert re.fullmatch(r"evidence/IPR-\.\._\.\._x_RH-1/\d{4}/\d{2}/\d{2}/[0-9a-f]{24}\.png", key)


@pytest.mark.parametrize(
    ("path", "safe"),
    [
        ("/workbench?mine=1", "/workbench?mine=1"),
        ("//evil.example/", "/"),
        ("https://evil.example/", "/"),
        ("/\\evil", "/"),
        ("", "/"),
        ("javascript:alert(1)", "/"),
    ],
)
def test_only_paths_of_this_site_are_ways_back(path: str, safe: str) -> None:
    assert safe_return(path) == safe


def test_session_tokens_are_sealed_to_their_session() -> None:
    box = TokenBox("a-secret-of-enough-length-123")
    sealed = box.seal({"access": "A", "refresh": "R"}, "session-1")
    assert b"A" not in sealed[12:] or box.open(sealed, "session-1") == {"access": "A", "refresh": "R"}
    assert box.open(sealed, "session-1")["refresh"] == "R"
    with pytest.raises(InvalidTag):
        box.open(sealed, "session-2")
    with pytest.raises(InvalidTag):
        TokenBox("another-secret-of-enough-length").open(sealed, "session-1")


def test_working_days_left_in_the_jurisdictions_calendar() -> None:
    cn = calendar_for("CN")
    start = date(2026, 9, 30)  # before National Day: 3 working days end on 10 October (a make-up Saturday)
    due = cn.add_working_days(start, 3)
    assert due == date(2026, 10, 10)
    assert cn.working_days_left(start, due) == 3
    assert cn.working_days_left(date(2026, 10, 8), due) == 2
    assert cn.working_days_left(due, due) == 0
    assert cn.working_days_left(date(2026, 10, 12), due) == -1
    due_at = cn.end_of_day(due)  # the instant the limit ends (midnight, Beijing time)
    assert working_days_left("CN", due_at, datetime(2026, 10, 9, 15, 59, tzinfo=UTC)) == 1
    assert working_days_left("CN", due_at, datetime(2026, 10, 9, 16, 1, tzinfo=UTC)) == 0


def test_worklist_puts_failed_then_escalated_first_then_fewest_days() -> None:
    from services.cases.workbench import _urgency

    def item(case_id: str, left: int | None, **flags: object) -> dict:
        nxt = {"working_days_left": left, "due_at": f"2026-01-{10 + (left or 0):02d}"} if left is not None else None
        return {
            "case_id": case_id,
            "next_deadline": nxt,
            "failed": False,
            "escalated": False,
            "pending_approval": None,
            "opened_at": "2026-01-01",
            **flags,
        }

    items = [
        item("calm", 20),
        item("none", None),
        item("soon", 1),
        item("escalated", 9, escalated=True),
        item("failed", None, failed=True),
        item("approval", 15, pending_approval={"kind": "confiscation"}),
    ]
    assert [i["case_id"] for i in sorted(items, key=_urgency)] == [
        "failed",
        "escalated",
        "approval",
        "soon",
        "calm",
        "none",
    ]


def test_case_facts_of_a_parcel_case() -> None:
    from decimal import Decimal

    from services.cases.workbench import facts_of
    from shared.contracts.cases import CaseInput, HolderRef, PartyRef

    case = CaseInput(
        case_id="IPR-M-2026-1-P00007-L1",
        jurisdiction="CN",
        customs_office="CN5300",
        direction="export",
        declaration_id="M-2026-1-P00007",
        revision=1,
        line_no=1,
        hs_code="640411",
        description="shoes",
        quantity=Decimal(3),
        unit="pair",
        unit_value=Decimal(4),
        currency="USD",
        goods_value=Decimal(12),
        consignor=PartyRef(id="S", name="Seller", country="CN"),
        consignee=PartyRef(id="B", name="Buyer", country="US"),
        recordation_id="CN-T-1",
        right_type="trademark",
        mark="NIKE",
        holder=HolderRef(id="RH-0001", name="Nike", contact_email="a@b.example"),
        score=0.9,
        reasons=["targeting profile P-SNEAKERS-EXPRESS 'cheap sneakers' (owner x) (+0.30)", "campaign C-2026-SUMMER"],
        transport_mode="express",
    )
    facts = facts_of(case)
    assert facts["manifest_id"] == "M-2026-1"
    assert (facts["origin_country"], facts["destination_country"]) == ("CN", "US")
    assert facts["profile_ids"] == ["P-SNEAKERS-EXPRESS"] and facts["campaign_ids"] == ["C-2026-SUMMER"]
    assert facts["items"] == Decimal(3) and facts["line_count"] == 1


def _worklist_page(who: object, escalations: list[dict]) -> str:
    return env.get_template("workbench/worklist.html").render(
        who=who,
        lang="en",
        _=lambda s, **v: i18n.t("en", s, **v),
        label=lambda c: i18n.label("en", c),
        money=lambda v, c=None: str(v),
        number=str,
        when=lambda v, tz=None: str(v),
        until=lambda v, tz=None: str(v),
        day=str,
        time_left=lambda n: i18n.time_left("en", n),
        flash=None,
        csrf="t",
        path="/workbench",
        query="",
        data={"total": 0, "items": []},
        filters={},
        mine=False,
        closed=False,
        unassigned=False,
        offset=0,
        page=50,
        base={},
        error=None,
        states=(),
        directions=(),
        transport=(),
        fine_tiers=("ordinary",),
        escalations=escalations,
        shown_escalations=20,
        task_reason=lambda r: i18n.task_reason("en", r),
    )


def test_escalations_on_the_worklist_say_what_to_do() -> None:
    from types import SimpleNamespace

    from services.web.workbench import _open_escalations

    evil = '<script>alert("x")</script>'
    raw = [
        {
            "id": 3,
            "case_id": "IPR-D-L1",
            "kind": "deadline",
            "deadline": "holder_reply",
            "state": "suspended",
            "due_at": "2026-01-05T16:00:00+00:00",
            "escalated_at": "2026-01-04T16:00:00+00:00",
            "reason": None,
        },
        {
            "id": 2,
            "case_id": "IPR-S-L1",
            "kind": "step_refused",
            "deadline": "send_notice:detention",
            "state": "detained",
            "due_at": "2026-01-03T00:00:00+00:00",
            "escalated_at": "2026-01-03T00:00:00+00:00",
            "reason": evil,
        },
        {
            "id": 1,
            "case_id": "IPR-F-L1",
            "kind": "case_failed",
            "deadline": "workflow",
            "state": "suspended",
            "due_at": "2026-01-02T00:00:00+00:00",
            "escalated_at": "2026-01-06T00:00:00+00:00",
            "reason": "terminated: by mistake",
        },
        {
            "id": 4,
            "case_id": "IPR-R-L1",
            "kind": "step_refused",
            "deadline": "place_hold",
            "state": "suspended",
            "due_at": "2026-01-01T00:00:00+00:00",
            "escalated_at": "2026-01-01T00:00:00+00:00",
            "reason": "x",
            "resolved_at": "2026-01-02T00:00:00+00:00",
        },
    ]
    shown = _open_escalations([*raw, {**raw[2], "id": 5, "escalated_at": "2026-01-05T00:00:00+00:00"}])
    assert [e["id"] for e in shown] == [1, 2, 3]  # failed cases first, then refused steps, then deadlines
    officer = _worklist_page(
        SimpleNamespace(
            is_supervisor=False,
            sub="wang.wei",
            name="Wang Wei",
            holder_id=None,
            row=SimpleNamespace(offices=["CN5300"]),
        ),
        shown,
    )
    assert officer.count('class="row resolve-form"') == 2  # the refused step and the deadline; not the failed case
    assert "A supervisor repairs it." in officer and "#repair-form" not in officer
    assert "send the notice: detention" in officer and "<script>alert" not in officer
    supervisor = _worklist_page(
        SimpleNamespace(
            is_supervisor=True, sub="zhang.min", name="Zhang Min", holder_id=None, row=SimpleNamespace(offices=[])
        ),
        shown,
    )
    assert 'href="/workbench/cases/IPR-F-L1#repair-form"' in supervisor
    assert "IPR-R-L1" not in officer  # resolved ones are not listed


def test_a_services_validator_text_is_said_in_plain_words() -> None:
    from services.web.apis import ApiError
    from services.web.i18n import t

    exc = ApiError(
        422,
        "schema_violation",
        "request does not match the contract",
        [
            {
                "loc": ["body", "reference"],
                "msg": "String should match pattern '^[A-Z]+$'",
                "type": "string_pattern_mismatch",
            },
            {"loc": ["body", "amount"], "msg": "Input should be a valid decimal", "type": "decimal_parsing"},
            {
                "loc": ["body", "note"],
                "msg": "String should have at most 40 characters",
                "type": "string_too_long",
                "ctx": {"max_length": 40},
            },
            {"loc": ["body", "holder_id"], "msg": "Field required", "type": "missing"},
            {"loc": ["body", "lines", 2], "msg": "Value error, line 3 is not in the case", "type": "value_error"},
        ],
    )
    zh = exc.field_errors(lambda s, **v: t("zh", s, **v))
    assert zh == {
        "reference": "只能使用此栏允许的字母、数字和符号。",
        "amount": t("zh", "Enter a number."),
        "note": "最多 40 个字符。",
        "holder_id": "此项为必填项。",
        "lines.2": "line 3 is not in the case",
    }
    assert zh["amount"] != "Enter a number."  # it has its Chinese
    en = exc.field_errors()
    assert en["note"] == "At most 40 characters." and "pattern" not in en["reference"]
    assert exc.page_message(lambda s, **v: s) == "Some fields were not accepted; see the notes beside them."
    assert ApiError(409, "case_closed", "case X is closed", None).page_message(lambda s, **v: s) == "case X is closed"


def test_units_of_quantity_are_translated_on_chinese_pages() -> None:
    from services.web.i18n import unit

    assert unit("zh", "pair") == "双" and unit("zh", "PCE") == "件" and unit("zh", "kg") == "千克"
    assert unit("en", "pair") == "pair" and unit("zh", "barrels of fun") == "barrels of fun"


def test_case_page_offers_the_petition_decision_only_on_a_petition_after_seizure() -> None:
    from types import SimpleNamespace

    from services.web.workbench import _actions

    ctx = SimpleNamespace(who=SimpleNamespace(is_supervisor=False))
    seized = {"state": "seized", "history": [], "submissions": [{"kind": "importer_response"}]}
    assert "petition_decision" not in _actions(seized, {}, ctx)
    seized["submissions"].append({"kind": "petition"})
    assert "petition_decision" in _actions(seized, {}, ctx)
    assert "petition_decision" not in _actions({**seized, "state": "forfeited"}, {}, ctx)


@pytest.mark.parametrize(
    "typed,lines,error",
    [
        ("", [], False),
        ("4", [4], False),
        ("2, 4;4 1", [1, 2, 4], False),
        ("2,x", [], True),
        ("0", [], True),
        ("100000", [], True),
        ("-1", [], True),
    ],
)
def test_lines_not_infringing_are_read_from_the_determination_form(typed: str, lines: list[int], error: bool) -> None:
    from types import SimpleNamespace

    from services.web.pages import Errors
    from services.web.workbench import _line_numbers

    errors = Errors()
    assert _line_numbers(typed, errors, SimpleNamespace(_=lambda s, **v: s)) == lines
    assert ("lines_cleared" in errors) is error


def _page_context(lang: str, **specific: object) -> dict:
    """What every page template is rendered with (a signed-in person, the language's words, plain formatting),
    and the page's own values."""
    from types import SimpleNamespace

    who = SimpleNamespace(
        sub="o",
        name="Wang Wei",
        is_supervisor=False,
        is_officer=True,
        holder_id=None,
        row=SimpleNamespace(offices=["CN5300"]),
        csrf="t",
    )
    return {
        "who": who,
        "lang": lang,
        "_": lambda s, **v: i18n.t(lang, s, **v),
        "label": lambda c: i18n.label(lang, c),
        "money": lambda v, c=None: f"{c or ''} {v}".strip(),
        "number": str,
        "unit": str,
        "when": lambda v, tz=None: str(v),
        "until": lambda v, tz=None: str(v),
        "day": str,
        "left_of": lambda j, v: None,
        "time_left": lambda n: "",
        "flash": None,
        "csrf": "t",
        "path": "/",
        "query": "",
        "files": [],
        "tz": None,
        "timeline": [],
        "errors": {},
        "values": {},
        **specific,
    }


def test_case_page_of_a_consignment_shows_each_lines_status_and_takes_lines_not_infringing() -> None:

    template = env.get_template("workbench/case.html")
    case = {
        "case_id": "IPR-CN5300-X-RH-0001",
        "state": "detained",
        "line_no": 1,
        "jurisdiction": "CN",
        "history": [],
        "deadlines": [],
        "submissions": [],
        "lines": [
            {"line_no": 1, "status": "held"},
            {"line_no": 2, "status": "held"},
            {"line_no": 3, "status": "withdrawn", "moved_to": "IPR-CN5300-X-RH-0002"},
        ],
    }
    decl = {
        "currency": "CNY",
        "lines": [
            {
                "line_no": n,
                "hs_code": "640411",
                "description": f"shoes {n}",
                "quantity": 1,
                "unit": "pair",
                "unit_value": 10,
            }
            for n in (1, 2, 3)
        ],
    }

    def page(actions: list[str], **changes) -> str:
        return template.render(
            **_page_context(
                "zh",
                closed=False,
                targeting={},
                case={**case, **changes},
                entry={},
                decl=decl,
                lines=decl["lines"],
                recordation=None,
                notices=[],
                stuck=[],
                actions=actions,
                line_states={ln["line_no"]: ln for ln in case["lines"]},
                held_lines=[1, 2],
            )
        )

    detained = page(["determination", "court_notice", "paper_answer"])
    assert 'name="lines_cleared"' in detained and "不侵权的商品项" in detained
    assert "已撤出本案" in detained and "已移至案件 IPR-CN5300-X-RH-0002" in detained
    seized = page(["petition_decision", "paper_answer"], state="seized")
    assert 'id="petition-form"' in seized and 'name="petition_outcome"' in seized
    assert "act/petition_decision" in seized and 'name="lines_cleared"' not in seized
    # a party's notice nobody could deliver: the form that records its service by other means
    undelivered = {"key": "party_detention", "role": "consignor", "party_name": "Shenzhen Trading", "party_id": "C1"}
    shown = page(["paper_answer"], party_notices=[{**undelivered, "status": "undeliverable"}])
    assert 'id="service-party_detention"' in shown and "act/service" in shown and 'name="notice"' in shown
    assert "Shenzhen Trading" in shown and "记录送达" in shown
    assert "act/service" not in page(["paper_answer"], party_notices=[{**undelivered, "status": "served"}])


def test_the_workflows_standard_reasons_are_said_in_chinese() -> None:
    """Every fixed reason the case workflow records (a release's reason, a refusal's why) has its Chinese, and the
    timeline shows it; a reason with the case's own figures in it is shown as recorded."""
    from services.web.i18n import REASONS, reason
    from services.web.workbench import _describe

    root = Path(__file__).resolve().parents[2] / "services" / "cases" / "workflow"
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    fixed = set(re.findall(r'release\(f, "([^"{]+)"\)', source)) | set(
        re.findall(r'"why": "([^"{]+)"(?=\s*[,}])', source)
    )
    assert len(fixed) >= 15, fixed
    assert sorted(fixed - set(REASONS)) == []
    entry = {"event": "released", "detail": {"reason": "no reply from the rights holder within 3 working days"}}
    assert _describe("zh", entry)["what"] == "权利人未在3个工作日内答复"
    assert _describe("en", entry)["what"] == "no reply from the rights holder within 3 working days"
    assert reason("zh", "released lines 2, 4") == "released lines 2, 4"


def test_the_parties_notices_and_their_service_are_named_in_both_languages() -> None:
    for event in (
        "party_notice_sent",
        "party_notice_served",
        "party_notice_undeliverable",
        "notice_served_on_paper",
        "party_detention",
        "penalty_decision",
        "holder_of_goods",
    ):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in i18n.label("zh", event)), event


def test_every_notice_kind_has_a_title_in_both_languages() -> None:
    from typing import get_args

    from services.web import i18n
    from shared.contracts.cases import NoticeKind

    for kind in get_args(NoticeKind):
        en, zh = i18n.notice_title("en", kind), i18n.notice_title("zh", kind)
        assert kind in i18n.NOTICE_TITLES, kind
        assert en != zh and any("\u4e00" <= ch <= "\u9fff" for ch in zh), kind


def test_the_timeline_says_how_a_notice_was_served_in_the_pages_language() -> None:
    from services.web.workbench import _describe

    entry = {
        "at": "2026-12-01T08:00:00Z",
        "event": "party_notice_served",
        "detail": {"kind": "party_detention", "by": "delivered", "method": "email"},
    }
    zh = _describe("zh", entry)
    assert zh["who"] == "已送达" and "电子邮件" in zh["what"] and "email" not in zh["what"]
    en = _describe("en", entry)
    assert en["who"] == "delivered" and "e-mail" in en["what"]


def test_the_timeline_does_not_say_sent_when_no_channel_took_the_notice() -> None:
    from services.web.workbench import _describe

    unsent = {
        "at": "2026-12-01T08:00:00Z",
        "event": "party_notice_sent",
        "detail": {
            "kind": "party_detention",
            "role": "declarant",
            "email": "not_configured",
            "webhook": "not_configured",
        },
    }
    en = _describe("en", unsent)
    assert "not sent" in en["event"] and "no channel" in en["event"]
    assert "未发出" in _describe("zh", unsent)["event"]
    refused = {
        **unsent,
        "event": "notice_sent",
        "detail": {"kind": "suspension", "email": "not_sent", "webhook": "not_sent"},
    }
    assert "not sent" in _describe("en", refused)["event"]
    # one channel took it (or is still sending it): it was sent
    for email in ("pending", "delivered", "retrying"):
        sent = {**unsent, "detail": {**unsent["detail"], "email": email}}
        assert _describe("en", sent)["event"] == "party notice sent"


def test_reasons_with_the_cases_figures_are_said_in_chinese_with_the_figures() -> None:
    from services.web.i18n import reason

    said = {
        "no court assistance notice within 30 working days of detention": (
            "扣留后30个工作日内未收到人民法院协助执行通知书"
        ),
        "court assistance notice (2026)粤03执保12号 orders release": (
            "人民法院协助执行通知书（(2026)粤03执保12号）要求放行"
        ),
        "declaration revision 3: line(s) left the case": "报关单第3次修改：商品项撤出本案",
        "the case is closed (released)": "案件已结案（已放行）",
        "the petition was granted by Ann Lee (ann.lee): the seized goods are released": (
            "Ann Lee (ann.lee)批准了申诉：被扣押的货物予以放行"
        ),
    }
    for english, chinese in said.items():
        assert reason("zh", english) == chinese
        assert reason("en", english) == english
    # the patterns stay in step with what the workflow writes
    root = Path(__file__).resolve().parents[2] / "services" / "cases" / "workflow"
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    for phrase in (
        "working days of detention",
        "orders release",
        "suspected line(s) join the case",
        "the case's goods are detained",
        "line(s) left the case",
        "the seized goods are released",
        "request not admitted: ",
    ):
        assert phrase in source, phrase


def test_every_event_and_fixed_reason_of_the_workflow_is_said_in_chinese() -> None:
    """Read from the workflow's source (its syntax tree, so strings split over lines count whole): every history
    event it logs or ends on has a label, every fixed why/reason its Chinese."""
    import ast

    from services.web.i18n import LABELS, REASONS

    events, reasons = set(), set()
    root = Path(__file__).resolve().parents[2] / "services" / "cases" / "workflow"
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                at = {"log": 0, "finish": 2, "_finish": 1}.get(name)
                if at is not None and len(node.args) > at and isinstance(node.args[at], ast.Constant):
                    events.add(node.args[at].value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value in ("why", "reason")
                        and isinstance(value, ast.Constant)
                        and isinstance(value.value, str)
                    ):
                        reasons.add(value.value)
    assert len(events) >= 60 and len(reasons) >= 15, (len(events), len(reasons))
    assert sorted(e for e in events if e not in LABELS) == []
    assert sorted(r for r in reasons if r not in REASONS) == []


def test_the_worklist_reads_times_in_the_officers_office_time_zone() -> None:
    from services.web.workbench import office_timezone

    assert office_timezone(["CN5300"]) == "Asia/Shanghai"
    assert office_timezone(["DE004851"]) == "Europe/Berlin"
    assert office_timezone(["XX0001", "US2704"]) == "America/New_York"
    assert office_timezone([]) is None


def test_targeting_reasons_are_said_in_chinese_with_their_names_and_points() -> None:
    from services.web.i18n import risk_reason

    said = {
        "brand field names recorded mark 'NIKE' (+0.60)": "品牌栏为已备案商标'NIKE'（+0.60）",
        "HS 640411 is among the recorded goods (+0.20)": "商品编码640411属于备案商品范围（+0.20）",
        "declared unit value 4.2 USD is below 50% of the genuine minimum 35.0 USD (+0.20)": (
            "申报单价4.2 USD低于正品最低价35.0 USD的50%（+0.20）"
        ),
        "export from CN, where its border enforcement looks first (+0.10)": "自CN出口（边境执法重点）（+0.10）",
        "description names recorded mark 'NIKE AIR' (an alias of 'NIKE'; glued to the Chinese text) (+0.40)": (
            "品名含已备案商标'NIKE AIR'（'NIKE'的别名；与中文连写）（+0.40）"
        ),
        "consignor 91440300MA5YYYY2 had 3 earlier cases ending in confiscation; consignee US-EIN-12-3456789 had 1 "
        "earlier case ending in confiscation (+0.40)": (
            "发货人91440300MA5YYYY2此前有3宗案件以没收结案；收货人US-EIN-12-3456789此前有1宗案件以没收结案（+0.40）"
        ),
    }
    for english, chinese in said.items():
        assert risk_reason("zh", english) == chinese
        assert risk_reason("en", english) == english
    assert risk_reason("zh", "a reason not known (+0.10)") == "a reason not known (+0.10)"
    assert (
        risk_reason(
            "zh",
            "model m-0003: probability 0.83 of infringement (+0.05); strongest factors (log-odds): "
            "declared value / genuine minimum: 0.12 (+1.20), this consignor (+0.40), transport mode: post (-0.10), "
            "HS chapter 64 (+0.05)",
        )
        == "模型m-0003：侵权概率0.83（+0.05）；主要因素（对数几率）：申报价值与正品最低价之比：0.12（+1.20），"
        "该发货人（+0.40），运输方式：邮递（-0.10），HS第64章（+0.05）"
    )
    source = (Path(__file__).resolve().parents[2] / "services" / "risk" / "scoring.py").read_text()
    for phrase in (
        "brand field names recorded mark",
        "is among the recorded goods",
        "of the genuine minimum",
        "where its border enforcement looks first",
        "an alias of",
        "glued to the Chinese text",
        "earlier case{'s' if n != 1 else ''} ending in confiscation",
    ):
        assert phrase in source, phrase
    serving = (Path(__file__).resolve().parents[2] / "services" / "risk" / "learning" / "serving.py").read_text()
    for phrase in ("of infringement (", "; strongest factors (log-odds): "):
        assert phrase in serving, phrase


def test_every_factor_the_model_names_is_said_in_chinese() -> None:
    import itertools

    from services.risk.learning import features as F
    from services.web.i18n import FACTOR_VALUES_ZH, FACTORS_ZH, _factor_zh

    assert set(F.LABELS) == set(F.NAMES), "every feature has an officer's label"
    values = (0.0, 1.0, -1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 64.0, float("nan"))
    for name, value in itertools.product(F.NAMES, values):
        said = F.describe(name, value)
        assert "," not in said and "_" not in said, said  # one factor of a comma-separated list, in words
        zh = _factor_zh(f"{said} (+0.12)")
        assert zh.endswith("（+0.12）") and not any(ch.isascii() and ch.isalpha() for ch in zh.replace("HS", "")), (
            said,
            zh,
        )
    assert FACTORS_ZH and FACTOR_VALUES_ZH


def test_an_escalations_reason_is_said_in_chinese_with_its_task_as_written() -> None:
    from services.web.i18n import task_reason

    text = (
        "serve notice: party_detention: the notice could not be delivered on any channel; no time limit runs "
        "until it is served; task: serve the party detention notice on X by other means"
    )
    zh = task_reason("zh", text)
    assert "通知无法通过任何渠道送达" in zh and zh.endswith(
        "；任务：serve the party detention notice on X by other means"
    )
    assert "could not be delivered" not in zh
    assert task_reason("en", text) == text
    assert task_reason("zh", "something unknown") == "something unknown"


@pytest.mark.parametrize(
    ("value", "said"),
    [("500.000", "500"), ("0.500", "0.5"), ("1E+3", "1000"), ("12.250", "12.25"), ("0", "0"), ("0.000", "0")],
)
def test_seized_quantities_are_plain_numbers_never_exponents(value: str, said: str) -> None:
    from decimal import Decimal

    from services.cases.workbench import plain_decimal

    assert plain_decimal(Decimal(value)) == said


def test_the_portal_shows_a_settled_guarantee_with_what_was_charged_and_refunded() -> None:
    from types import SimpleNamespace

    template = env.get_template("portal/case.html")
    guarantee = {
        "status": "held",
        "settled": False,
        "amount": "14910.00",
        "currency": "CNY",
        "headroom": "14860.00",
        "charged": "0.00",
        "refunded": "0.00",
        "accrued": None,
        "drawn_from": None,
        "reason": None,
    }

    def page(g: dict) -> str:
        who = SimpleNamespace(sub="nike.ip", name="Nike IP", holder_id="RH-0001", csrf="t", is_officer=False)
        return template.render(
            **_page_context(
                "en",
                who=SimpleNamespace(**{**vars(who), "is_supervisor": False, "row": SimpleNamespace(offices=[])}),
                notice_title=lambda k: k,
                case={"case_id": "IPR-X-RH-0001", "state": "confiscated", "jurisdiction": "CN", "history": []},
                notices=[],
                documents={},
                guarantee=g,
                actions=[],
                reply_notice=None,
            )
        )

    held = page(guarantee)
    assert '<dd id="guarantee-status">held</dd>' in held and "Balance" in held and "Refunded" not in held
    settled = page({**guarantee, "settled": True, "charged": "50.00", "refunded": "14860.00"})
    assert '<dd id="guarantee-status">settled</dd>' in settled and "Balance" not in settled
    assert '<dd id="guarantee-refunded">CNY 14860.00</dd>' in settled and "Posted" in settled
