"""Synthetic but realistic-ish test data for the risk benchmark: pronounceable marks and parcel declarations.

A quarter of the marks also carry a Chinese mark (an alias of two to four characters, as transliterated
brands are written), and a line is written in English, in Chinese (申报品名 without spaces, sometimes in
Traditional characters, with the trade's words) or in both scripts (a Latin mark glued to Chinese goods).
Chinese marks are drawn from characters that goods descriptions do not use, so every registry size sees
the same hits, as with the Latin marks.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime

ONSETS = [
    "b",
    "br",
    "c",
    "ch",
    "cl",
    "d",
    "dr",
    "f",
    "fl",
    "g",
    "gr",
    "h",
    "j",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "pr",
    "qu",
    "r",
    "s",
    "sh",
    "sk",
    "st",
    "t",
    "tr",
    "v",
    "w",
    "z",
]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"]
CODAS = ["", "", "", "n", "r", "s", "x", "l", "m", "nd", "rk", "st", "t"]
HS_GROUPS = [
    "6403",
    "6404",
    "6402",
    "6109",
    "6110",
    "6203",
    "6204",
    "4202",
    "4203",
    "9102",
    "9101",
    "7113",
    "7117",
    "8517",
    "8518",
    "8471",
    "9503",
    "9506",
    "3304",
    "3303",
    "8523",
    "9004",
    "6505",
    "6117",
]
GOODS = {
    "6403": ["leather shoes", "mens boots", "ladies leather sandals"],
    "6404": ["sports shoes", "running shoes", "canvas sneakers", "textile trainers"],
    "6402": ["rubber slippers", "plastic sandals"],
    "6109": ["cotton t-shirts", "printed tee shirts"],
    "6110": ["knitted sweaters", "hoodies"],
    "6203": ["mens trousers", "denim jeans"],
    "6204": ["womens dresses", "ladies skirts"],
    "4202": ["handbags", "wallets", "backpacks", "travel bags"],
    "4203": ["leather belts", "leather gloves"],
    "9102": ["wrist watches", "quartz watches"],
    "9101": ["gold watches"],
    "7113": ["silver jewellery", "gold rings"],
    "7117": ["fashion jewellery", "earrings", "bracelets"],
    "8517": ["mobile phones", "smart phones"],
    "8518": ["wireless earphones", "bluetooth speakers", "headphones"],
    "8471": ["laptop computers", "tablets"],
    "9503": ["plastic toys", "dolls", "toy cars"],
    "9506": ["football", "fitness equipment"],
    "3304": ["lipstick", "face cream", "makeup set"],
    "3303": ["perfume", "eau de toilette"],
    "8523": ["usb flash drives", "memory cards"],
    "9004": ["sunglasses"],
    "6505": ["baseball caps", "knitted hats"],
    "6117": ["scarves", "neck ties"],
}
# Brands nobody recorded are built from other syllables, so that every registry size sees the same hits.
OTHER_ONSETS = ["bl", "gl", "pl", "sn", "sp", "sw", "th", "wh", "ph", "zh", "gw", "kn"]
OTHER_VOWELS = ["ee", "oo", "au", "oi", "ue"]
ADJECTIVES = [
    "black",
    "white",
    "assorted",
    "new",
    "mens",
    "womens",
    "kids",
    "premium",
    "casual",
    "summer",
    "winter",
    "classic",
    "small",
    "large",
]


# Chinese goods as declared (申报品名) by HS group, and words that go with them
GOODS_ZH = {
    "6403": ["皮鞋", "男式皮靴", "女式皮凉鞋"],
    "6404": ["运动鞋", "跑步鞋", "帆布鞋", "纺织面运动鞋"],
    "6402": ["橡胶拖鞋", "塑料凉鞋"],
    "6109": ["棉制T恤衫", "印花短袖T恤"],
    "6110": ["针织毛衣", "连帽卫衣"],
    "6203": ["男式长裤", "牛仔裤"],
    "6204": ["女式连衣裙", "女式短裙"],
    "4202": ["手提包", "钱包", "双肩背包", "旅行箱包"],
    "4203": ["皮革腰带", "皮手套"],
    "9102": ["手表", "石英手表"],
    "9101": ["金表"],
    "7113": ["银首饰", "金戒指"],
    "7117": ["仿首饰", "耳环", "手链"],
    "8517": ["手机", "智能手机"],
    "8518": ["无线耳机", "蓝牙音箱", "头戴耳机"],
    "8471": ["笔记本电脑", "平板电脑"],
    "9503": ["塑料玩具", "玩偶", "玩具车"],
    "9506": ["足球", "健身器材"],
    "3304": ["口红", "面霜", "化妆品套装"],
    "3303": ["香水", "淡香水"],
    "8523": ["优盘", "存储卡"],
    "9004": ["太阳镜"],
    "6505": ["棒球帽", "针织帽"],
    "6117": ["围巾", "领带"],
}
ADJECTIVES_ZH = ["黑色", "白色", "男款", "女款", "儿童", "新款", "休闲", "夏季", "冬季", "经典", "小号", "大号", "混装"]
FAKE_ZH = ["高仿", "复刻", "A货", "原单", "精仿", "1:1"]
# characters of transliterated brand names, none of which the goods words above use
_ZH_MARK_POOL = (
    "阿迪达斯耐克路易威登古驰奈儿劳士爱仕普巴宝莉博柏利乐索尼彪匡雷朋潘多迈百伦加鹅菲娜丽莎琪娅蔻芙兰蒂诗黛"
    "薇曼妮珂梵卡罗亚伊欧维塔萨尔芬琳凯瑞思逸雅诺德森堡翰汉姆杰斯顿泰格纳沃伯艾莱茜蕾萝缇米夫奥莫贝蒙安丹茨沙"
    "谢费弗赫霍佐齐拜莉蓓璐瑟琦婕颖珀翠瑾荷蔓菁蓝枫澜赛摩佩奎昆廷舒缪穆黎"
)


def _zh_pool() -> str:
    used = set("".join(w for ws in GOODS_ZH.values() for w in ws) + "".join(ADJECTIVES_ZH) + "".join(FAKE_ZH))
    return "".join(dict.fromkeys(c for c in _ZH_MARK_POOL if c not in used))


ZH_MARK_CHARS = _zh_pool()


def zh_mark(rng: random.Random) -> str:
    return "".join(rng.choice(ZH_MARK_CHARS) for _ in range(rng.choice([3, 3, 4])))


_S2T = []


def traditional(text: str) -> str:
    """The same text in Traditional characters (OpenCC s2t), as Hong Kong and Taiwan traders write it."""
    if not _S2T:
        import opencc

        _S2T.append(opencc.OpenCC("s2t"))
    return _S2T[0].convert(text)


def word(rng: random.Random, syllables: int | None = None) -> str:
    n = syllables or rng.choice([2, 2, 2, 3, 3])
    return (
        "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n - 1))
        + rng.choice(ONSETS)
        + rng.choice(VOWELS)
        + rng.choice(CODAS)
    )


def other_brand(rng: random.Random) -> str:
    return "".join(rng.choice(OTHER_ONSETS) + rng.choice(OTHER_VOWELS) for _ in range(rng.choice([2, 3])))


def mark_names(n: int, seed: int = 7) -> list[str]:
    """``n`` distinct pronounceable marks (one in five has two words)."""
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        w = word(rng)
        if rng.random() < 0.2:
            w = f"{w} {word(rng, 2)}"
        if 4 <= len(w.replace(" ", "")) <= 16 and w not in seen:
            seen.add(w)
            out.append(w.upper())
    return out


def recordation(i: int, title: str, rng: random.Random, zh: str | None = None) -> dict:
    groups = rng.sample(HS_GROUPS, rng.randint(2, 6))
    return {
        "recordation_id": f"CN-T-BENCH-{i:06d}",
        "jurisdiction": "CN",
        "right_type": "trademark",
        "title": title,
        "registration_number": str(100000 + i),
        "aliases": [zh] if zh else [],
        "holder": {
            "id": f"RH-B{i:06d}",
            "name": f"{title.title()} Holdings Ltd",
            "contact_email": f"ipr{i}@example.com",
        },
        "goods_hs_prefixes": groups,
        "nice_classes": [],
        "authorized_licensees": [],
        "genuine_unit_value": [{"hs_prefix": groups[0], "min": rng.choice([20, 35, 60, 120, 400]), "currency": "USD"}],
        "valid_from": "2020-01-01",
        "valid_until": "2029-12-31",
        "status": "active",
    }


def recordations(titles: list[str], seed: int = 11, zh_share: float = 0.25) -> list[dict]:
    """Recordations of the titles; ``zh_share`` of them also carry a distinct Chinese mark as an alias."""
    rng = random.Random(seed)
    zh_rng = random.Random(seed + 1)
    seen: set[str] = set()
    out = []
    for i, t in enumerate(titles):
        zh = None
        if zh_rng.random() < zh_share:
            for _ in range(20):
                cand = zh_mark(zh_rng)
                if cand not in seen:
                    seen.add(cand)
                    zh = cand
                    break
        out.append(recordation(i, t, rng, zh))
    return out


def misspell(rng: random.Random, text: str) -> str:
    s = list(text.replace(" ", ""))
    op = rng.choice(["double", "swap", "drop", "digit"])
    i = rng.randrange(1, len(s))
    if op == "double":
        s.insert(i, s[i])
    elif op == "swap" and i < len(s) - 1:
        s[i], s[i + 1] = s[i + 1], s[i]
    elif op == "drop" and len(s) > 6:
        del s[i]
    else:
        s = list("".join(s).replace("O", "0").replace("I", "1").replace("E", "3"))
    return "".join(s)


SCRIPT_MIX = {"latin": 0.6, "chinese": 0.25, "mixed": 0.15}  # of lines, in the throughput run


def _script(rng: random.Random, script: str | dict) -> str:
    if isinstance(script, str):
        return script
    r, acc = rng.random(), 0.0
    for name, share in script.items():
        acc += share
        if r < acc:
            return name
    return "latin"


def _zh_line(rng: random.Random, hs_group: str, rec: dict | None, mixed: bool) -> tuple[str, str | None]:
    """Description and brand of a Chinese (or mixed-script) line, with the mark of ``rec`` if given."""
    goods_zh = rng.choice(GOODS_ZH[hs_group])
    adj = rng.choice(ADJECTIVES_ZH)
    if rec is None:
        desc = f"{adj}{goods_zh}"
        if mixed:
            desc = f"{rng.choice(GOODS[hs_group])} {desc}" if rng.random() < 0.5 else f"{desc} {rng.choice(ADJECTIVES)}"
        brand = other_brand(rng).upper() if rng.random() < 0.35 else None
        return desc, brand
    zh = rec["aliases"][0] if rec["aliases"] else None
    fake = rng.choice(FAKE_ZH) if rng.random() < 0.3 else ""
    if mixed or zh is None:
        mark = rec["title"] if rng.random() < 0.7 else misspell(rng, rec["title"])
        glued = mark.replace(" ", "") if rng.random() < 0.5 else mark.title()
        return f"{glued}{goods_zh}{fake}", (glued if rng.random() < 0.3 else None)
    r = rng.random()
    if r < 0.15:
        zh = traditional(zh)
    elif r < 0.25:
        zh = " ".join(zh)  # characters spaced out
    desc = f"{fake}{zh}{goods_zh}{adj}" if rng.random() < 0.5 else f"{adj}{zh}{goods_zh}"
    return desc, (zh if rng.random() < 0.2 else None)


def declaration(
    rng: random.Random,
    n: int,
    recorded: list[dict],
    *,
    run: str,
    mark_rate: float = 0.01,
    submitted: datetime | None = None,
    script: str | dict = "latin",
) -> dict:
    """A parcel declaration of 1-3 lines; ``mark_rate`` of lines carry a recorded mark (some disguised).

    ``script``: "latin", "chinese", "mixed", or shares of each ({"latin": 0.6, ...}) drawn per line.
    """
    lines = []
    for ln in range(1, rng.choice([1, 2, 2, 3]) + 1):
        lines.append(_line(rng, ln, recorded, mark_rate, script))
    transport = rng.choice(["express", "express", "post", "air"])
    consignor = {"id": f"SELLER-{rng.randint(1, 5000)}", "name": f"{word(rng).title()} Trading Co.", "country": "CN"}
    decl = {
        "declaration_id": f"BENCH-{run}-{n:08d}",
        "revision": 1,
        "submitted_at": (submitted or datetime.now(UTC)).isoformat(),
        "jurisdiction": "CN",
        "customs_office": rng.choice(["CN5300", "CN5301", "CN2200", "CN0100"]),
        "direction": "export",
        "procedure": "cross_border_ecommerce",
        "transport_mode": transport,
        "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
        "consignor": consignor,
        "consignee": {
            "id": f"BUYER-{rng.randint(1, 10**6)}",
            "name": f"{word(rng).title()} {word(rng).title()}",
            "country": rng.choice(["US", "DE", "FR", "GB", "BR", "RU"]),
        },
        "origin_country": "CN",
        "destination_country": "US",
        "transit_countries": [],
        "currency": "USD",
        "lines": lines,
    }
    if transport in ("express", "post"):  # cross-border e-commerce, direct mail (9610), drawn without the rng
        decl.update(
            supervision_mode="9610",
            business_model="B2C",
            platform=PLATFORMS[n % len(PLATFORMS)],
            seller={"id": f"SHOP-{consignor['id'][7:]}", "name": consignor["name"]},
            order_no=f"ORD-{run}-{n:08d}",
            waybill_no=f"WB{run}{n:010d}",
        )
    return decl


PLATFORMS = [
    {"id": "PLAT-0001", "name": "Example Global Mall", "country": "CN"},
    {"id": "PLAT-0002", "name": "Example Cross-border Store", "country": "CN"},
    {"id": "PLAT-0003", "name": "Example Wholesale Direct", "country": "CN"},
]


def _line(rng: random.Random, ln: int, recorded: list[dict], mark_rate: float, script: str | dict) -> dict:
    """One goods line; its declared IP status is what a trader would write (a recorded mark is declared
    'no_brand' on odd lines, as infringers do, and 'own_brand' on even ones)."""
    kind = _script(rng, script)
    hs_group = rng.choice(HS_GROUPS)
    goods = rng.choice(GOODS[hs_group])
    brand = None
    desc = f"{rng.choice(ADJECTIVES)} {goods}"
    rec = None
    if kind != "latin":
        if recorded and rng.random() < mark_rate:
            rec = rng.choice(recorded)
            hs_group = rng.choice(rec["goods_hs_prefixes"]) if rng.random() < 0.5 else hs_group
        desc, brand = _zh_line(rng, hs_group, rec, kind == "mixed")
    elif recorded and rng.random() < mark_rate:
        rec = rng.choice(recorded)
        hs_group = rng.choice(rec["goods_hs_prefixes"]) if rng.random() < 0.5 else hs_group
        goods = rng.choice(GOODS[hs_group])
        brand = rec["title"] if rng.random() < 0.6 else misspell(rng, rec["title"])
        desc = f"{goods} {brand.lower()} style" if rng.random() < 0.3 else f"{rng.choice(ADJECTIVES)} {goods}"
    elif rng.random() < 0.35:
        brand = other_brand(rng).upper()  # a brand nobody recorded
    if rec is not None:
        status = "no_brand" if ln % 2 else "own_brand"
    else:
        status = "no_brand" if brand is None else "own_brand"
    return {
        "line_no": ln,
        "hs_code": hs_group + rng.choice(["11", "19", "20", "90"]),
        "description": desc,
        "brand": brand,
        "model": None,
        "quantity": rng.choice([1, 1, 2, 3, 5, 10]),
        "unit": "piece",
        "unit_value": round(rng.uniform(1, 80), 2),
        "gross_weight_kg": round(rng.uniform(0.1, 3), 3),
        "origin_country": "CN",
        "declared_ip_status": status,
    }


def manifest_header(
    rng: random.Random, n: int, parcels: int, *, run: str, submitted: datetime | None = None, mode: str = "9610"
) -> dict:
    """The header of a CN export e-commerce manifest of ``parcels`` parcels."""
    return {
        "manifest_id": f"MBENCH-{run}-{n:06d}",
        "revision": 1,
        "submitted_at": (submitted or datetime.now(UTC)).isoformat(),
        "jurisdiction": "CN",
        "customs_office": rng.choice(["CN5300", "CN5301", "CN2200", "CN0100"]),
        "direction": "export",
        "supervision_mode": mode,
        "business_model": "B2B" if mode in ("9710", "9810") else "B2C",
        "transport_mode": "express",
        "carrier": {"id": "CARRIER-01", "name": "Example Express Co.", "country": "CN"},
        "platform": PLATFORMS[n % len(PLATFORMS)],
        "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
        "origin_country": "CN",
        "destination_country": "US",
        "transit_countries": [],
        "currency": "USD",
        "parcel_count": parcels,
    }


def parcel(
    rng: random.Random,
    no: int,
    recorded: list[dict],
    *,
    run: str,
    mark_rate: float = 0.01,
    lines: int = 1,
    script: str | dict = "latin",
) -> dict:
    """One parcel of a manifest (single-line by default, as most e-commerce parcels are)."""
    goods = [_line(rng, ln, recorded, mark_rate, script) for ln in range(1, lines + 1)]
    seller = rng.randint(1, 5000)
    return {
        "parcel_no": no,
        "waybill_no": f"WB{run}{no:08d}{rng.randint(0, 99):02d}",
        "order_no": f"ORD-{run}-{no:08d}",
        "seller": {"id": f"SHOP-{seller}", "name": f"{word(rng).title()} Store", "country": "CN"},
        "consignor": {"id": f"SELLER-{seller}", "name": f"{word(rng).title()} Trading Co.", "country": "CN"},
        "consignee": {
            "id": f"BUYER-{rng.randint(1, 10**6)}",
            "name": f"{word(rng).title()} {word(rng).title()}",
            "country": rng.choice(["US", "DE", "FR", "GB", "BR", "RU"]),
        },
        "declared_value": round(sum(g["quantity"] * g["unit_value"] for g in goods), 2),
        "gross_weight_kg": round(sum(g["gross_weight_kg"] for g in goods), 3),
        "lines": goods,
    }


def manifest(
    rng: random.Random, n: int, parcels: int, recorded: list[dict], *, run: str, mark_rate: float = 0.01, lines: int = 1
) -> dict:
    """A whole manifest (header and parcels) as one document."""
    return {
        **manifest_header(rng, n, parcels, run=run),
        "parcels": [parcel(rng, i, recorded, run=run, mark_rate=mark_rate, lines=lines) for i in range(1, parcels + 1)],
    }


def manifest_body(
    rng: random.Random,
    n: int,
    parcels: int,
    recorded: list[dict],
    *,
    run: str,
    mark_rate: float = 0.01,
    chunk: int = 64 * 1024,
) -> Iterator[bytes]:
    """The JSON body of a manifest, produced piece by piece (never whole), as a streaming client sends it."""
    import json

    head = json.dumps(manifest_header(rng, n, parcels, run=run))
    buf = head[:-1] + ', "parcels": ['
    for i in range(1, parcels + 1):
        buf += ("," if i > 1 else "") + json.dumps(parcel(rng, i, recorded, run=run, mark_rate=mark_rate))
        if len(buf) >= chunk:
            yield buf.encode()
            buf = ""
    yield (buf + "]}").encode()


TODAY = date(2026, 11, 20)
