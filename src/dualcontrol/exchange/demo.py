"""The exchange part of the demo: a city platform's package travels up to the province, a tampered
copy is refused, and the province's 2025 package goes to the national platform.

SYNTHETIC: the demo plays the national platform (000000) and Kunming's city platform (530100) with
keys of their own kept in ``DATA_DIR/exchange/demo-peers/`` (a real peer keeps its private key).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import uuid
from pathlib import Path

from django.conf import settings

from dualcontrol.core import exchange as core
from dualcontrol.exchange import services
from dualcontrol.targets.models import RegionalStatistic

DEMO_AFTER = (
    "dualcontrol.reporting",
    "dualcontrol.targets",
    "dualcontrol.assessment",
    "dualcontrol.keyunits",
    "dualcontrol.carbonmarket",
)
CITY = "530100"


def _peer_keys(code: str) -> core.KeyPair:
    path = Path(settings.DATA_DIR) / "exchange" / "demo-peers" / f"{code}.pem"
    if path.exists():
        return core.load_private(path.read_bytes())
    keys = core.new_keypair()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(keys.private_pem)
    path.chmod(0o600)
    return keys


def extend_demo(*, today: dt.date) -> None:
    national = _peer_keys("000000")
    city = _peer_keys(CITY)
    services.add_peer(
        code="000000", name="国家平台（演示）", level="national", public_key=national.public_b64
    )
    services.add_peer(
        code=CITY, name="昆明市平台（演示）", level="city", public_key=city.public_b64
    )
    year = 2025
    stats = [
        {
            "division": s.division.code,
            "industry": s.industry.code if s.industry_id else None,
            "year": s.year,
            "month": s.month,
            "energy_tce": format(s.energy_tce.normalize(), "f"),
            "gdp_10k_yuan": format(s.gdp_10k_yuan.normalize(), "f")
            if s.gdp_10k_yuan is not None
            else None,
            "gdp_real_growth_pct": None,
            "derived": {},
            "source": "昆明市平台（演示）",
        }
        for s in RegionalStatistic.objects.filter(
            year=year, division__path__startswith=_path(CITY), month__isnull=True
        ).select_related("division", "industry")[:40]
    ]
    package = {
        "format": core.FORMAT,
        "version": core.VERSION,
        "package_id": str(uuid.uuid4()),
        "sender": {"code": CITY, "level": "city", "name": "昆明市"},
        "recipient": {"code": services.identity()["code"], "level": "province", "name": "云南省"},
        "direction": "up",
        "sequence": 1,
        "created_at": f"{today.isoformat()}T09:00:00+08:00",
        "period": {"year": year},
        "contents": {"regional_statistics": stats},
        "counts": {"regional_statistics": len(stats)},
    }
    signed = core.sign(package, city)
    data = json.dumps(signed, ensure_ascii=False).encode("utf-8")
    tampered = copy.deepcopy(signed)
    if tampered["contents"]["regional_statistics"]:
        tampered["contents"]["regional_statistics"][0]["energy_tce"] = "1"
    else:
        tampered["sequence"] = 9
    services.import_package(data=json.dumps(tampered, ensure_ascii=False).encode("utf-8"))
    services.import_package(data=data)
    services.export_package(to="national", year=year)


def _path(code: str) -> str:
    from dualcontrol.regions.models import Division

    d = Division.objects.filter(code=code).first()
    return d.path if d else "-"
