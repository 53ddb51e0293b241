"""Risk matcher over Chinese and mixed-script text (pure): folding, marks inside unsegmented runs, boundaries,
Traditional forms, homophones and near forms, glued Latin, the trade's vocabulary, descriptive use, ordinary
words, reasons that name how a mark was found, and bad input that must never break matching."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.risk.matcher import RegistryIndex, describe_marks, find_candidates
from services.risk.normalise import fold_key, normalise, sound, to_simplified, tokens
from services.risk.scoring import Scoring, _counterfeit_vocabulary, _is_vague, assess_line
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from tests.factories import example_declaration, example_recordation

SCORING = Scoring(fx_rates_to_cny={"CNY": Decimal(1), "USD": Decimal("7.1")})


def rec(rid: str, title: str, aliases: list[str], goods: list[str], **changes) -> RecordationV1:
    fields = {"authorized_licensees": [], "genuine_unit_value": [], **changes}
    return RecordationV1.model_validate(
        example_recordation(recordation_id=rid, title=title, aliases=aliases, goods_hs_prefixes=goods, **fields)
    )


REGISTRY = [
    rec("CN-T-NIKE", "NIKE", ["耐克", "NIKE AIR"], ["6403", "6404", "6109"]),
    rec("CN-T-ADIDAS", "ADIDAS", ["阿迪达斯"], ["6403", "6404", "6109"]),
    rec("CN-T-LV", "LOUIS VUITTON", ["LV", "路易威登"], ["4202"]),
    rec("CN-T-GUCCI", "GUCCI", ["古驰"], ["4202", "4203"]),
    rec("CN-T-ROLEX", "ROLEX", ["劳力士"], ["9101", "9102"]),
    rec("CN-T-CHANEL", "CHANEL", ["香奈兒"], ["3303", "4202"]),  # recorded in Traditional characters
    rec("CN-T-APPLE", "APPLE", ["苹果", "IPHONE"], ["8517", "8518"], common_word=True, common_word_aliases=["苹果"]),
    rec("CN-T-LEGO", "LEGO", ["乐高"], ["9503"]),
    rec("CN-T-PANDORA", "PANDORA", ["潘多拉"], ["7113", "7117"]),
    rec("CN-T-MICHELIN", "MICHELIN", ["米其林"], ["4011"]),
    rec("CN-T-SAMSUNG", "SAMSUNG", ["三星"], ["8517"]),
    rec("CN-T-LINING", "李宁", ["LI-NING", "LINING"], ["6403", "6404"]),  # a Chinese title, Latin aliases
]
INDEX = RegistryIndex.build(REGISTRY)


def assess(
    description: str,
    *,
    brand: str | None = None,
    hs: str = "640411",
    model: str | None = None,
    unit_value: str = "5",
    consignor: dict | None = None,
):
    data = example_declaration()
    data["lines"] = [
        {
            **data["lines"][0],
            "hs_code": hs,
            "brand": brand,
            "model": model,
            "description": description,
            "unit_value": unit_value,
        }
    ]
    if consignor:
        data["consignor"] = consignor
    d = DeclarationV1.model_validate(data)
    return assess_line(INDEX, d, d.lines[0], SCORING).assessment


def hit(a, rid: str):
    return next((h for h in a.hits if h.recordation_id == rid), None)


# --- folding ----------------------------------------------------------------------------


def test_traditional_is_folded_to_simplified_and_full_width_to_half_width() -> None:
    assert to_simplified("勞力士手錶") == "劳力士手表"
    assert to_simplified("NIKE") == "NIKE"
    assert normalise("ＮＩＫＥ　運動鞋") == "nike 运动鞋"
    assert fold_key("香奈兒") == "香奈儿"


def test_tokens_split_where_the_script_changes_and_remember_glued_latin() -> None:
    tk = tokens("NIKE运动鞋 Gucci古驰腰带")
    assert tk.folded == ["nike", "运动鞋", "gucci", "古驰腰带"]
    assert tk.glued == (True, False, True, False)
    assert tokens("NIKE 运动鞋").glued == (False, False)
    assert tokens("勞力士手錶").traditional == {0: "勞力士手錶"}


def test_invisible_and_control_characters_are_folded_away() -> None:
    assert tokens("NI\u200bKE").folded == ["nike"]
    assert "invisible characters inside the word" in tokens("NI\u200bKE").tricks
    assert tokens("耐\u200d克").folded == ["耐克"]
    assert tokens("NIKE\x07shoes").folded == ["nike", "shoes"]


def test_toneless_pinyin() -> None:
    assert sound("耐") == sound("奈") == "nai"
    assert sound("x") == "x"


# --- the examples -----------------------------------------------------------------


@pytest.mark.parametrize(
    "description", ["耐克运动鞋 男款", "耐克运动鞋男款", "NIKE运动鞋", "Nike运动鞋男", "耐克 运动鞋"]
)
def test_a_chinese_or_glued_mark_in_unsegmented_text_is_suspected(description: str) -> None:
    a = assess(description)
    assert a.suspected is True and a.lane == "red", a.reasons
    assert hit(a, "CN-T-NIKE").score >= 0.6


def test_brand_field_glued_to_chinese_names_how_the_mark_was_found() -> None:
    a = assess("运动鞋", brand="NIKE运动鞋")
    h = hit(a, "CN-T-NIKE")
    assert h.match == "exact" and "glued_latin" in h.how and h.found == "nike"
    assert "brand field names recorded mark 'NIKE' (glued to the Chinese text) (+0.60)" in a.reasons


def test_latin_and_chinese_glued_together_both_name_the_mark() -> None:
    a = assess("Gucci古驰腰带", hs="420330")
    assert a.suspected is True
    assert [h.recordation_id for h in a.hits] == ["CN-T-GUCCI"]


def test_alias_hit_names_the_alias_and_the_title() -> None:
    a = assess("耐克运动鞋")
    h = hit(a, "CN-T-NIKE")
    assert h.match == "alias" and h.term == "耐克" and h.how == ["alias"]
    assert "description names recorded mark '耐克' (an alias of 'NIKE') (+0.50)" in a.reasons


def test_traditional_text_finds_a_simplified_mark_and_says_so() -> None:
    a = assess("勞力士手錶", hs="910211")
    h = hit(a, "CN-T-ROLEX")
    assert a.suspected is True and h.match == "alias" and "traditional" in h.how
    assert any("written in Traditional characters '勞力士'" in r for r in a.reasons)


def test_simplified_text_finds_a_mark_recorded_in_traditional() -> None:
    a = assess("香奈儿香水", hs="330300")
    assert a.suspected is True and hit(a, "CN-T-CHANEL").term == "香奈兒"


def test_full_width_latin_mark_is_found_and_named() -> None:
    a = assess("ＮＩＫＥ运动鞋")
    h = hit(a, "CN-T-NIKE")
    assert a.suspected is True and "full_width" in h.how
    assert any("in full-width letters" in r for r in a.reasons)


def test_a_chinese_title_with_latin_aliases() -> None:
    assert assess("李宁运动鞋").suspected is True
    assert assess("跑步鞋", brand="LI-NING").suspected is True
    # "lining" is also an English word: in English free text the Latin alias alone is weak; among Chinese
    # words it is a name (see test_a_latin_name_among_chinese_words_is_no_english_word)
    assert hit(assess("running shoes with mesh lining"), "CN-T-LINING").score < 0.6
    assert assess("LI-NING跑步鞋").suspected is True


# --- boundaries ---------------------------------------------------------------------------


def test_latin_mark_keeps_its_word_boundary_next_to_chinese() -> None:
    assert assess("LVL手袋", hs="420221").hits == []
    assert hit(assess("LV手袋", hs="420221"), "CN-T-LV") is not None  # a two-letter mark: weak in free text
    assert assess("手袋", brand="LV手袋", hs="420221").suspected is True
    assert assess("手袋", brand="LVL手袋", hs="420221").hits == []


def test_a_prefix_of_a_chinese_mark_is_not_the_mark() -> None:
    a = assess("省劳力手推车", hs="910211")
    assert a.hits == [], a.reasons


def test_a_function_word_is_no_homophone_of_a_mark_character() -> None:
    assert assess("省劳力是关键的手推车", hs="910211").hits == []


@pytest.mark.parametrize(
    ("description", "hs"),
    [
        ("新鲜苹果", "080810"),
        ("苹果醋", "220900"),
        ("潘多拉魔盒吊坠", "711719"),
        ("米其林指南", "490199"),
        ("米其林指南 2026", "401110"),
        ("米其林三星餐厅纪念品", "851713"),
        ("苹果汁饮料", "851713"),
    ],
)
def test_chinese_ordinary_word_traps_are_not_the_marks(description: str, hs: str) -> None:
    a = assess(description, hs=hs)
    assert a.suspected is False, a.reasons
    assert a.hits == [], a.reasons


def test_a_common_word_alias_is_weak_in_free_text_but_counts_on_recorded_goods() -> None:
    a = assess("苹果造型蓝牙耳机", hs="851830")  # apple-shaped earphones
    h = hit(a, "CN-T-APPLE")
    assert h is not None and any("also an ordinary word" in r for r in h.reasons)
    assert a.suspected is False  # 0.35 + 0.20 alone
    assert assess("苹果造型蓝牙耳机 高仿", hs="851830").suspected is True  # + counterfeit vocabulary
    assert assess("苹果", hs="080810").hits == []  # outside the goods: the fruit


# --- homophones and near forms --------------------------------------------------------------


def test_homophone_of_a_chinese_mark_is_a_fuzzy_hit_named_as_such() -> None:
    a = assess("运动鞋", brand="奈克")
    h = hit(a, "CN-T-NIKE")
    assert h.match == "fuzzy" and h.how == ["homophone"] and h.found == "奈克"
    assert any("brand has '奈克', a homophone of recorded mark '耐克' (same pinyin nai ke)" in r for r in a.reasons)
    assert a.suspected is True


def test_homophone_of_a_longer_mark() -> None:
    h = hit(assess("阿迪大斯运动鞋"), "CN-T-ADIDAS")
    assert h.how == ["homophone"] and h.found == "阿迪大斯"


def test_one_look_alike_character_is_a_near_form() -> None:
    a = assess("劳力土手表", hs="910211")
    h = hit(a, "CN-T-ROLEX")
    assert h.match == "fuzzy" and h.how == ["lookalike"]
    assert any("'土' for '士', a look-alike character" in r for r in a.reasons)
    assert a.suspected is True


def test_a_longer_mark_with_two_characters_of_the_same_sound() -> None:
    h = hit(assess("阿弟大斯运动鞋"), "CN-T-ADIDAS")
    assert h is not None and h.how == ["homophone"] and h.found == "阿弟大斯"
    assert assess("老立式座钟", hs="910511").hits == []  # every character replaced: an ordinary word


def test_near_forms_need_a_character_of_the_mark_and_never_read_common_words() -> None:
    assert assess("乃可运动鞋").hits == []  # both characters of a two-character mark replaced: not a near form
    assert assess("平果手机", hs="851713").hits == []  # 苹果 is an ordinary word: no homophones of it


def test_pinyin_of_a_chinese_mark_in_latin_letters() -> None:
    a = assess("运动鞋", brand="NAIKE")
    h = hit(a, "CN-T-NIKE")
    assert h.match == "fuzzy" and h.how == ["pinyin"] and h.term == "耐克"


def test_spaced_out_characters_are_a_disguise() -> None:
    a = assess("耐 克 运动鞋")
    h = hit(a, "CN-T-NIKE")
    assert h.match == "normalised" and "spaced_characters" in h.how
    assert any("characters spaced out" in r for r in a.reasons)


def test_a_middle_dot_or_a_space_inside_a_transliteration_is_not_a_disguise() -> None:
    for text in ("路易·威登手袋", "路易 威登手袋"):
        h = hit(assess(text, hs="420221"), "CN-T-LV")
        assert h is not None and h.match == "alias", text


# --- the language of the trade ----------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "高仿耐克",
        "复刻 运动鞋",
        "A货手袋",
        "原单尾货",
        "精仿手表",
        "1:1 运动鞋",
        "超A级",
        "莆田鞋",
        "顶级复刻",
        "1比1做工",
    ],
)
def test_chinese_counterfeit_vocabulary(text: str) -> None:
    assert _counterfeit_vocabulary(text) is not None


@pytest.mark.parametrize("text", ["高仿真花 仿真植物", "1:1比例模型", "DATA货架", "运动鞋", "11:15 发货"])
def test_words_that_only_look_like_counterfeit_vocabulary(text: str) -> None:
    assert _counterfeit_vocabulary(text) is None


def test_counterfeit_vocabulary_raises_a_chinese_hit() -> None:
    plain = assess("耐克运动鞋", unit_value="40")
    fake = assess("耐克运动鞋 高仿", unit_value="40")
    assert round(fake.score - plain.score, 2) == 0.25 or fake.score == 1.0
    assert any("counterfeit vocabulary '高仿'" in r for r in fake.reasons)


@pytest.mark.parametrize("text", ["货物", "礼品", "样品 配件", "日用品", "其他 杂货"])
def test_vague_chinese_descriptions(text: str) -> None:
    assert _is_vague(text) is True


def test_a_real_chinese_description_is_not_vague() -> None:
    assert _is_vague("男式棉制针织运动衫") is False


# --- descriptive use ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "hs", "rid"),
    [
        ("适用于苹果iPhone15手机壳", "851713", "CN-T-APPLE"),
        ("iPhone 15专用手机壳", "851713", "CN-T-APPLE"),
        ("兼容乐高积木", "950300", "CN-T-LEGO"),
        ("乐高配件 收纳盒", "950300", "CN-T-LEGO"),
        ("适配耐克鞋的鞋垫", "640411", "CN-T-NIKE"),
        ("耐克鞋专用鞋带", "640411", "CN-T-NIKE"),
        ("用于LV手袋的内胆包", "420221", "CN-T-LV"),
        ("strap for 劳力士 watch", "910211", "CN-T-ROLEX"),
        ("苹果三星通用充电线", "851713", "CN-T-SAMSUNG"),
        ("iPhone/三星 通用 数据线", "851713", "CN-T-SAMSUNG"),
        ("劳力士表带替换 适用劳力士", "910211", "CN-T-ROLEX"),
    ],
)
def test_chinese_descriptive_use_is_not_suspected(description: str, hs: str, rid: str) -> None:
    a = assess(description, hs=hs)
    h = hit(a, rid)
    assert h is not None and h.match == "descriptive", a.reasons
    assert a.suspected is False


def test_unisex_is_not_a_descriptive_cue() -> None:
    a = assess("耐克运动鞋男女通用")
    assert hit(a, "CN-T-NIKE").match == "alias" and a.suspected is True


def test_brand_field_overrides_chinese_descriptive_wording() -> None:
    a = assess("耐克专用鞋带", brand="耐克", hs="640411")
    assert a.suspected is True


def test_licensee_caps_a_chinese_hit() -> None:
    licensed = rec(
        "CN-T-NIKE-L",
        "NIKE",
        ["耐克"],
        ["6404"],
        authorized_licensees=[{"id": "91440300MA5ZZZZ3", "name": "耐克体育（中国）有限公司"}],
    )
    index = RegistryIndex.build([licensed])
    data = example_declaration()
    data["consignor"] = {"id": "X-9", "name": "耐克體育(中國)有限公司", "country": "CN"}
    data["lines"] = [{**data["lines"][0], "description": "耐克运动鞋", "brand": None}]
    d = DeclarationV1.model_validate(data)
    a = assess_line(index, d, d.lines[0], SCORING).assessment
    assert a.suspected is False and a.score <= 0.2


# --- rules of reading, each with a registry of its own ---------------------------------------------


def _assess_in(index: RegistryIndex, description: str, *, hs: str, brand: str | None = None, unit_value: str = "5"):
    data = example_declaration()
    data["lines"] = [
        {
            **data["lines"][0],
            "hs_code": hs,
            "brand": brand,
            "model": None,
            "description": description,
            "unit_value": unit_value,
        }
    ]
    d = DeclarationV1.model_validate(data)
    return assess_line(index, d, d.lines[0], SCORING).assessment


def test_model_names_written_as_one_word_are_read_word_by_word() -> None:
    index = RegistryIndex.build(
        [
            rec("CN-T-APPLE", "APPLE", ["IPHONE", "MACBOOK"], ["8517", "8471"], common_word=True),
            rec("CN-T-NB", "NEW BALANCE", [], ["6404"]),
            rec("CN-T-LV", "LOUIS VUITTON", ["LV"], ["4202"]),
        ]
    )
    a = _assess_in(index, "全新iPhone16Plus国行", hs="851713")
    h = hit(a, "CN-T-APPLE")
    assert a.suspected is True and h.match == "alias" and "joined_words" in h.how, a.reasons
    assert any("'iphone' written together with other words" in r for r in a.reasons)
    assert _assess_in(index, "MacBookAir13 laptop", hs="847130").suspected is True
    assert _assess_in(index, "NewBalance990v6 running shoes", hs="640411").suspected is True
    # capitals throughout are one word, and a mark keeps its boundary: LVL is not LV
    assert _assess_in(index, "LVL2000 bag", hs="420221").hits == []
    # digits for letters are still read as letters where the word does not split into a mark
    assert tokens("N1KE").folded == ["nike"]


def test_a_latin_name_among_chinese_words_is_no_english_word() -> None:
    index = RegistryIndex.build([rec("CN-T-GAP", "GAP", [], ["6109"], common_word=True)])
    for text in ("GAP纯棉短袖", "GAP 纯棉短袖", "纯棉短袖 GAP"):
        a = _assess_in(index, text, hs="610910")
        assert a.suspected is True, (text, a.reasons)
        assert any("a Latin name among Chinese words" in r for r in a.reasons)
    # in English text, or next to English words, it is still the ordinary word
    assert _assess_in(index, "gap year t-shirt", hs="610910").suspected is False
    assert _assess_in(index, "mind the gap t-shirt 纯棉", hs="610910").suspected is False


def test_an_ordinary_word_mark_directly_before_the_name_of_the_goods_is_the_mark() -> None:
    index = RegistryIndex.build(
        [rec("CN-T-APPLE", "APPLE", ["苹果"], ["8517", "8518", "8504"], common_word=True, common_word_aliases=["苹果"])]
    )
    for text in ("苹果耳机", "苹果原装充电器", "蘋果手機", "苹果 14 手机"):
        a = _assess_in(index, text, hs="851830" if "耳机" in text else "851713" if "机" in text else "850440")
        assert a.suspected is True, (text, a.reasons)
        assert any("the name of the goods: used as a mark" in r for r in a.reasons), text
    # the fruit's shape, picture or taste keeps the ordinary word
    for text in ("苹果造型耳机", "苹果图案手机支架", "苹果味电子烟"):
        assert _assess_in(index, text, hs="851830").suspected is False, text


def test_a_descriptive_cue_covers_every_item_of_a_list() -> None:
    for text in (
        "兼容华为和苹果手机的充电线",
        "适用于小米、苹果手机",
        "兼容OPPO/苹果手机",
        "适配华为及耐克运动鞋的鞋垫",
    ):
        a = assess(text, hs="851713" if "手机" in text else "640411")
        assert a.suspected is False, (text, a.reasons)
        assert all(h.match == "descriptive" for h in a.hits), text


def test_homophones_are_heard_in_every_reading_and_with_southern_merges() -> None:
    # 勒 reads lēi and lè: as lè it is the 乐 of 乐高
    h = hit(assess("勒高城堡积木套装", hs="950300"), "CN-T-LEGO")
    assert h is not None and h.how == ["homophone"]
    assert any("same pinyin le gao" in r for r in h.reasons)
    # si for shi: flat and retroflex initials merge in southern Mandarin
    a = assess("劳力丝机械表", hs="910221")
    h = hit(a, "CN-T-ROLEX")
    assert h is not None and h.how == ["homophone"] and a.suspected is True
    assert any("near pinyin lao li si for lao li shi" in r for r in h.reasons)
    # xin for xing: back and front nasals merge too
    assert hit(assess("三心智能手机", hs="851713"), "CN-T-SAMSUNG") is not None


def test_a_homophone_keeping_one_character_is_weak_alone_in_free_text() -> None:
    index = RegistryIndex.build(
        [
            rec(
                "CN-T-NIKE",
                "NIKE",
                ["耐克"],
                ["6404"],
                genuine_unit_value=[{"hs_prefix": "6404", "min": 40, "currency": "USD"}],
            )
        ]
    )
    a = _assess_in(index, "奈克运动鞋", hs="640411", unit_value="50")
    assert a.suspected is False and any("1 character of 2 kept, weak alone) (+0.35)" in r for r in a.reasons)
    assert _assess_in(index, "奈克运动鞋", hs="640411", unit_value="6").suspected is True  # undervalued
    assert _assess_in(index, "运动鞋", brand="奈克", hs="640411", unit_value="50").suspected is True  # brand


def test_a_look_alike_that_also_sounds_alike_is_a_near_form() -> None:
    a = assess("古弛女士皮带", hs="420330")
    h = hit(a, "CN-T-GUCCI")
    assert h.how == ["lookalike"] and a.suspected is True
    assert any("'弛' for '驰', a look-alike character of the same sound" in r for r in h.reasons)


def test_near_forms_of_a_mark_whose_characters_head_their_look_alike_groups() -> None:
    # 雪 is the first of its group (雪 雷 雹 雲): the mark must still be indexed for near forms
    index = RegistryIndex.build([rec("CN-T-SPRITE", "SPRITE", ["雪碧"], ["2202"])])
    h = hit(_assess_in(index, "雷碧柠檬汽水", hs="220210"), "CN-T-SPRITE")
    assert h is not None and h.how == ["lookalike"]


def test_brand_names_are_not_ordinary_words() -> None:
    index = RegistryIndex.build(
        [
            rec("CN-T-SHELL", "SHELL", ["壳牌"], ["2710"], common_word=True),
            rec("CN-C-DISNEY", "DISNEY", ["迪士尼"], ["9503"]),
        ]
    )
    assert _assess_in(index, "壳牌全合成机油", hs="271019").suspected is True
    assert _assess_in(index, "迪士尼公主毛绒公仔", hs="950300").suspected is True


# --- the registry shows Chinese marks -----------------------------------------------------------


def test_registry_view_describes_each_mark() -> None:
    marks = describe_marks(REGISTRY[0].model_dump(mode="json"))
    assert {
        "text": "耐克",
        "kind": "alias",
        "script": "Han",
        "folded": "耐克",
        "pinyin": "nai ke",
        "common_word": False,
    } in marks
    assert marks[0] == {"text": "NIKE", "kind": "title", "script": "Latin", "folded": "nike", "common_word": False}
    apple = describe_marks(REGISTRY[6].model_dump(mode="json"))
    assert next(m for m in apple if m["text"] == "苹果")["common_word"] is True


def test_common_word_aliases_must_be_aliases() -> None:
    with pytest.raises(ValidationError, match="common_word_aliases must be among the aliases"):
        rec("CN-T-X", "APPLE", ["IPHONE"], ["8517"], common_word_aliases=["苹果"])


def test_a_recordation_stored_before_chinese_marks_still_reads() -> None:
    old = example_recordation()
    assert "common_word_aliases" not in old
    assert RecordationV1.model_validate(old).common_word_aliases == []


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "what"),
    [
        ("shoes \ud800", "unpaired surrogate"),
        ("shoes\x00", "control character"),
        ("\x1b[31mshoes", "control character"),
        ("\u202eEKIN shoes", "direction override"),
        ("shoes\u2066x\u2069", "direction override"),
        ("\ufffe", "noncharacter"),
    ],
)
@pytest.mark.parametrize("field", ["description", "brand", "model"])
def test_declaration_text_refuses_what_no_text_may_carry(bad: str, what: str, field: str) -> None:
    data = example_declaration()
    data["lines"][0][field] = bad
    with pytest.raises(ValidationError) as exc:
        DeclarationV1.model_validate(data)
    err = exc.value.errors()[0]
    assert err["loc"] == ("lines", 0, field)
    # pydantic itself refuses an unpaired surrogate as no string at all
    assert what in err["msg"] or (what == "unpaired surrogate" and err["type"] == "string_unicode"), err


def test_party_names_and_recordation_marks_are_checked_too() -> None:
    data = example_declaration()
    data["consignor"]["name"] = "Bright\x00Trading"
    with pytest.raises(ValidationError) as exc:
        DeclarationV1.model_validate(data)
    assert exc.value.errors()[0]["loc"] == ("consignor", "name")
    with pytest.raises(ValidationError) as exc:
        RecordationV1.model_validate(example_recordation(aliases=["耐克", "\u202eEKIN"]))
    assert exc.value.errors()[0]["loc"] == ("aliases", 1)
    with pytest.raises(ValidationError):
        RecordationV1.model_validate(example_recordation(aliases=["x" * 257]))


@pytest.mark.parametrize(
    "text", ["耐克\u200e运动鞋", "\u200fNIKE", "NIKE\tshoes\nmens", "نايك", "Nіke运动鞋 ΝΙΚΕ", "運動鞋\u3000ＮＩＫＥ"]
)
def test_mixed_scripts_and_plain_direction_marks_are_accepted_and_folded(text: str) -> None:
    data = example_declaration()
    data["lines"][0]["description"] = text
    d = DeclarationV1.model_validate(data)
    assess_line(INDEX, d, d.lines[0], SCORING)


def test_over_long_description_is_refused() -> None:
    data = example_declaration()
    data["lines"][0]["description"] = "耐" * 1025
    with pytest.raises(ValidationError) as exc:
        DeclarationV1.model_validate(data)
    assert exc.value.errors()[0]["loc"] == ("lines", 0, "description")


_TEXT = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80) | st.text(
    alphabet=st.sampled_from(
        list("耐克奈劳力士土勞運動鞋高仿A货1:1 ·NIKEＮＩＫＥ\u200b\u202e\ud800\x00lv适用于专用配件苹果醋")
    ),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(brand=_TEXT, model=_TEXT, description=_TEXT)
def test_matching_never_fails_on_any_text(brand: str, model: str, description: str) -> None:
    """Whatever reaches the matcher (even text the contract would refuse), it answers."""
    d = DeclarationV1.model_validate(example_declaration())
    line = d.lines[0].model_copy(update={"brand": brand, "model": model, "description": description or "x"})
    a = assess_line(INDEX, d, line, SCORING).assessment
    assert 0.0 <= a.score <= 1.0
    for field_name, text in (("brand", brand), ("model", model), ("description", description)):
        find_candidates(INDEX, "CN", field_name, text)
