"""The original generator's approach, for `npm run bench` to compare whole runs against.

Seed 000 describes a Python Lambda that builds each record of the documented schema as a dict
from `random` choices, serialises it with `json.dumps`, pads it with random characters, and
collects lines until the file reaches its target size, then writes the file. This is that
approach with the standard library only (no faker, which the original did not document either),
writing to a local folder so only generation and serialisation are timed.

usage: python3 original-approach.py OUT_DIR FILE_COUNT TARGET_MB
"""
import json
import os
import random
import string
import sys
import uuid
from datetime import datetime, timedelta, timezone

EVENT_TYPES = ["page_view", "click", "add_to_cart", "purchase", "signup", "login", "logout", "search"]
COUNTRIES = {"US": ["New York", "Los Angeles", "Chicago"], "GB": ["London", "Manchester"], "DE": ["Berlin", "Munich"], "FR": ["Paris", "Lyon"], "JP": ["Tokyo", "Osaka"]}
DEVICES = ["desktop", "mobile", "tablet"]
OSES = ["Windows", "macOS", "Linux", "iOS", "Android"]
BROWSERS = ["Chrome", "Firefox", "Safari", "Edge"]
SOURCES = ["google", "facebook", "twitter", "email", "direct"]
MEDIUMS = ["cpc", "organic", "social", "email", "referral"]
ALNUM = string.ascii_letters + string.digits


def record(day: datetime, seq: int) -> dict:
    at = day + timedelta(seconds=random.randint(0, 86399), microseconds=random.randint(0, 999999))
    country = random.choice(list(COUNTRIES))
    return {
        "id": f"evt_{at.strftime('%Y%m%d%H%M%S')}_{seq:06d}",
        "timestamp": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "event_type": random.choice(EVENT_TYPES),
        "user_id": f"user_{random.randint(1, 100000)}",
        "session_id": uuid.uuid4().hex,
        "ip_address": ".".join(str(random.randint(1, 254)) for _ in range(4)),
        "user_agent": f"Mozilla/5.0 ({random.choice(OSES)}) {random.choice(BROWSERS)}/{random.randint(80, 130)}.0",
        "country": country,
        "city": random.choice(COUNTRIES[country]),
        "latitude": round(random.uniform(-90, 90), 4),
        "longitude": round(random.uniform(-180, 180), 4),
        "device_type": random.choice(DEVICES),
        "os": random.choice(OSES),
        "browser": random.choice(BROWSERS),
        "page_url": f"https://example.com/page/{random.randint(1, 1000)}",
        "referrer": f"https://referrer.com/{random.randint(1, 100)}",
        "utm_source": random.choice(SOURCES),
        "utm_medium": random.choice(MEDIUMS),
        "utm_campaign": f"campaign_{random.randint(1, 100)}",
        "duration_seconds": random.randint(1, 3600),
        "bounce": random.random() < 0.4,
        "conversion": random.random() < 0.05,
        "revenue": round(random.uniform(0, 500), 2),
        "items_viewed": random.randint(1, 20),
        "custom_data": {
            "experiment_id": f"exp_{random.randint(1, 50)}",
            "variant": random.choice(["A", "B"]),
            "feature_flags": {"feature_1": random.random() < 0.5, "feature_2": random.random() < 0.5},
        },
        "padding": "".join(random.choices(ALNUM, k=random.randint(200, 800))),
    }


def main() -> None:
    out, count, target_mb = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    os.makedirs(out, exist_ok=True)
    target = int(target_mb * 1024 * 1024)
    day = datetime(2025, 12, 23, tzinfo=timezone.utc)
    stamp = datetime.now(timezone.utc).strftime("%H%M%S")
    for i in range(count):
        lines, size, seq = [], 0, 0
        while size < target:
            line = json.dumps(record(day, seq)) + "\n"
            lines.append(line)
            size += len(line)
            seq += 1
        with open(os.path.join(out, f"2025-12-23-test{i:04d}-{stamp}.ndjson"), "w") as f:
            f.write("".join(lines))


if __name__ == "__main__":
    main()
