"""Synthetic but realistic-ish test data for the risk benchmark: pronounceable marks and parcel declarations."""

from __future__ import annotations

import random
from datetime import date, datetime, timezone

ONSETS = ["b", "br", "c", "ch", "cl", "d", "dr", "f", "fl", "g", "gr", "h", "j", "k", "kr", "l", "m", "n", "p",
          "pr", "qu", "r", "s", "sh", "sk", "st", "t", "tr", "v", "w", "z"]
VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "io", "ou", "y"]
CODAS = ["", "", "", "n", "r", "s", "x", "l", "m", "nd", "rk", "st", "t"]
HS_GROUPS = ["6403", "6404", "6402", "6109", "6110", "6203", "6204", "4202", "4203", "9102", "9101", "7113",
             "7117", "8517", "8518", "8471", "9503", "9506", "3304", "3303", "8523", "9004", "6505", "6117"]
GOODS = {
    "6403": ["leather shoes", "mens boots", "ladies leather sandals"], "6404": ["sports shoes", "running shoes",
    "canvas sneakers", "textile trainers"], "6402": ["rubber slippers", "plastic sandals"],
    "6109": ["cotton t-shirts", "printed tee shirts"], "6110": ["knitted sweaters", "hoodies"],
    "6203": ["mens trousers", "denim jeans"], "6204": ["womens dresses", "ladies skirts"],
    "4202": ["handbags", "wallets", "backpacks", "travel bags"], "4203": ["leather belts", "leather gloves"],
    "9102": ["wrist watches", "quartz watches"], "9101": ["gold watches"], "7113": ["silver jewellery", "gold rings"],
    "7117": ["fashion jewellery", "earrings", "bracelets"], "8517": ["mobile phones", "smart phones"],
    "8518": ["wireless earphones", "bluetooth speakers", "headphones"], "8471": ["laptop computers", "tablets"],
    "9503": ["plastic toys", "dolls", "toy cars"], "9506": ["football", "fitness equipment"],
    "3304": ["lipstick", "face cream", "makeup set"], "3303": ["perfume", "eau de toilette"],
    "8523": ["usb flash drives", "memory cards"], "9004": ["sunglasses"], "6505": ["baseball caps", "knitted hats"],
    "6117": ["scarves", "neck ties"],
}
# Brands nobody recorded are built from other syllables, so that every registry size sees the same hits.
OTHER_ONSETS = ["bl", "gl", "pl", "sn", "sp", "sw", "th", "wh", "ph", "zh", "gw", "kn"]
OTHER_VOWELS = ["ee", "oo", "au", "oi", "ue"]
ADJECTIVES = ["black", "white", "assorted", "new", "mens", "womens", "kids", "premium", "casual", "summer",
              "winter", "classic", "small", "large"]


def word(rng: random.Random, syllables: int | None = None) -> str:
    n = syllables or rng.choice([2, 2, 2, 3, 3])
    return "".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n - 1)) + \
        rng.choice(ONSETS) + rng.choice(VOWELS) + rng.choice(CODAS)


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


def recordation(i: int, title: str, rng: random.Random) -> dict:
    groups = rng.sample(HS_GROUPS, rng.randint(2, 6))
    return {
        "recordation_id": f"CN-T-BENCH-{i:06d}", "jurisdiction": "CN", "right_type": "trademark", "title": title,
        "registration_number": str(100000 + i), "aliases": [], "holder": {
            "id": f"RH-B{i:06d}", "name": f"{title.title()} Holdings Ltd", "contact_email": f"ipr{i}@example.com"},
        "goods_hs_prefixes": groups, "nice_classes": [], "authorized_licensees": [],
        "genuine_unit_value": [{"hs_prefix": groups[0], "min": rng.choice([20, 35, 60, 120, 400]), "currency": "USD"}],
        "valid_from": "2020-01-01", "valid_until": "2029-12-31", "status": "active",
    }


def recordations(titles: list[str], seed: int = 11) -> list[dict]:
    rng = random.Random(seed)
    return [recordation(i, t, rng) for i, t in enumerate(titles)]


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


def declaration(rng: random.Random, n: int, recorded: list[dict], *, run: str, mark_rate: float = 0.01,
                submitted: datetime | None = None) -> dict:
    """A parcel declaration of 1-3 lines; ``mark_rate`` of lines carry a recorded mark (some disguised)."""
    lines = []
    for ln in range(1, rng.choice([1, 2, 2, 3]) + 1):
        hs_group = rng.choice(HS_GROUPS)
        goods = rng.choice(GOODS[hs_group])
        brand = None
        desc = f"{rng.choice(ADJECTIVES)} {goods}"
        if recorded and rng.random() < mark_rate:
            rec = rng.choice(recorded)
            hs_group = rng.choice(rec["goods_hs_prefixes"]) if rng.random() < 0.5 else hs_group
            goods = rng.choice(GOODS[hs_group])
            brand = rec["title"] if rng.random() < 0.6 else misspell(rng, rec["title"])
            desc = f"{goods} {brand.lower()} style" if rng.random() < 0.3 else f"{rng.choice(ADJECTIVES)} {goods}"
        elif rng.random() < 0.35:
            brand = other_brand(rng).upper()  # a brand nobody recorded
        lines.append({
            "line_no": ln, "hs_code": hs_group + rng.choice(["11", "19", "20", "90"]), "description": desc,
            "brand": brand, "model": None, "quantity": rng.choice([1, 1, 2, 3, 5, 10]), "unit": "piece",
            "unit_value": round(rng.uniform(1, 80), 2), "gross_weight_kg": round(rng.uniform(0.1, 3), 3),
            "origin_country": "CN",
        })
    return {
        "declaration_id": f"BENCH-{run}-{n:08d}", "revision": 1,
        "submitted_at": (submitted or datetime.now(timezone.utc)).isoformat(), "jurisdiction": "CN",
        "customs_office": rng.choice(["CN5300", "CN5301", "CN2200", "CN0100"]), "direction": "export",
        "procedure": "cross_border_ecommerce", "transport_mode": rng.choice(["express", "express", "post", "air"]),
        "declarant": {"id": "91440300MA5XXXX1", "name": "Shenzhen Swift Forwarding Co."},
        "consignor": {"id": f"SELLER-{rng.randint(1, 5000)}", "name": f"{word(rng).title()} Trading Co.",
                      "country": "CN"},
        "consignee": {"id": f"BUYER-{rng.randint(1, 10**6)}", "name": f"{word(rng).title()} {word(rng).title()}",
                      "country": rng.choice(["US", "DE", "FR", "GB", "BR", "RU"])},
        "origin_country": "CN", "destination_country": "US", "transit_countries": [], "currency": "USD",
        "lines": lines,
    }


TODAY = date(2026, 11, 20)
