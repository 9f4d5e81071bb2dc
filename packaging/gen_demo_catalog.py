#!/usr/bin/env python3
"""Generates configs/demo/catalog.json: the demo catalog `packaging/dev.sh run` imports.

1,000 products over eight categories, names in Korean and English ("무선 이어폰 / Wireless
Earbuds 12"), prices in KRW, stock in two warehouses (icn-1 Incheon, pus-1 Busan). Deterministic:
the same seed gives the same file, so regenerating it changes nothing unless this script changed.

    python3 packaging/gen_demo_catalog.py [--count 1000] [--seed 20261126] [-o configs/demo/catalog.json]

The file is a JSON array in the shape POST /admin/v1/products/import takes, one product per line.
"""
import argparse
import json
import os
import random

# category -> (SKU prefix, price range in won, [(Korean, English), ...])
CATEGORIES = {
    "audio": ("AUD", (19_000, 459_000), [
        ("무선 이어폰", "Wireless Earbuds"), ("블루투스 스피커", "Bluetooth Speaker"),
        ("노이즈 캔슬링 헤드폰", "Noise-Cancelling Headphones"), ("사운드바", "Soundbar"),
        ("유선 이어폰", "Wired Earphones"), ("휴대용 라디오", "Portable Radio"),
    ]),
    "computers": ("CMP", (12_000, 2_890_000), [
        ("노트북", "Laptop"), ("기계식 키보드", "Mechanical Keyboard"), ("무선 마우스", "Wireless Mouse"),
        ("모니터", "Monitor"), ("외장 SSD", "External SSD"), ("USB-C 허브", "USB-C Hub"),
    ]),
    "kitchen": ("KIT", (5_900, 689_000), [
        ("전기밥솥", "Rice Cooker"), ("에어프라이어", "Air Fryer"), ("커피 머신", "Coffee Machine"),
        ("스테인리스 냄비", "Stainless Pot"), ("칼 세트", "Knife Set"), ("전기 주전자", "Electric Kettle"),
    ]),
    "fashion": ("FAS", (9_900, 329_000), [
        ("면 티셔츠", "Cotton T-Shirt"), ("데님 재킷", "Denim Jacket"), ("운동화", "Sneakers"),
        ("울 머플러", "Wool Scarf"), ("가죽 벨트", "Leather Belt"), ("백팩", "Backpack"),
    ]),
    "beauty": ("BTY", (4_500, 158_000), [
        ("수분 크림", "Moisturizing Cream"), ("선크림", "Sunscreen"), ("클렌징 폼", "Cleansing Foam"),
        ("립밤", "Lip Balm"), ("시트 마스크", "Sheet Mask"), ("헤어 오일", "Hair Oil"),
    ]),
    "food": ("FOD", (2_500, 89_000), [
        ("김치", "Kimchi"), ("녹차", "Green Tea"), ("김 선물세트", "Seaweed Gift Set"),
        ("고추장", "Gochujang"), ("떡볶이 밀키트", "Tteokbokki Meal Kit"), ("유자차", "Yuja Tea"),
    ]),
    "sports": ("SPT", (7_900, 1_290_000), [
        ("요가 매트", "Yoga Mat"), ("러닝화", "Running Shoes"), ("등산 스틱", "Trekking Poles"),
        ("자전거 헬멧", "Bike Helmet"), ("덤벨 세트", "Dumbbell Set"), ("캠핑 의자", "Camping Chair"),
    ]),
    "home": ("HOM", (3_900, 899_000), [
        ("LED 스탠드", "LED Desk Lamp"), ("극세사 이불", "Microfiber Duvet"), ("공기청정기", "Air Purifier"),
        ("수납 박스", "Storage Box"), ("디퓨저", "Diffuser"), ("로봇 청소기", "Robot Vacuum"),
    ]),
}
BRANDS = ["Hanbit", "Sora", "Gaon", "Nuri", "Daon", "Maru", "Haneul", "Bora"]
COLORS = [("블랙", "black"), ("화이트", "white"), ("네이비", "navy"), ("그레이", "gray"),
          ("레드", "red"), ("그린", "green")]
WAREHOUSES = ["icn-1", "pus-1"]


def price(rng, low, high):
    """A shop-like price in won: rounded to 100, most ending in 900."""
    value = rng.randint(low // 100, high // 100) * 100
    return max(low, value - value % 1000 + 900) if value >= 1000 else value


def product(rng, number):
    category = list(CATEGORIES)[(number - 1) % len(CATEGORIES)]
    prefix, (low, high), names = CATEGORIES[category]
    korean, english = rng.choice(names)
    brand = rng.choice(BRANDS)
    color_ko, color_en = rng.choice(COLORS)
    serial = (number - 1) // len(CATEGORIES) + 1
    stock = [{"id": w, "available": rng.choice([0, rng.randint(1, 20), rng.randint(20, 500)])}
             for w in WAREHOUSES]
    return {
        "id": f"prod_{number:04d}",
        "sku": f"{prefix}-{number:04d}",
        "name": f"{korean} / {english} {serial}",
        "description": f"{brand} {korean} ({color_ko}). {brand} {english} in {color_en}.",
        "category": category,
        "price": {"amount": price(rng, low, high), "currency": "KRW"},
        "status": "inactive" if rng.random() < 0.05 else "active",
        "attributes": {"brand": brand, "color": color_en, "weight_g": rng.randint(20, 9000)},
        "inventory": {"warehouses": stock},
    }


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("-o", "--output", default=os.path.join(root, "configs", "demo", "catalog.json"))
    args = parser.parse_args()
    rng = random.Random(args.seed)
    items = [product(rng, n) for n in range(1, args.count + 1)]
    lines = [json.dumps(item, ensure_ascii=False, separators=(",", ":")) for item in items]
    os.makedirs(os.path.dirname(args.output), exist_ok=True)
    with open(args.output, "w", encoding="utf-8") as out:
        out.write("[\n" + ",\n".join(lines) + "\n]\n")
    print(f"wrote {len(items)} products to {args.output}")


if __name__ == "__main__":
    main()
