"""Short names of autonomous divisions for the barometer's tile map (issue 14: names were cut
off as "怒江傈僳..." )."""

from __future__ import annotations

from pathlib import Path

import yaml

from dualcontrol.core.region_names import short_name

DATA_FILE = (
    Path(__file__).resolve().parents[2] / "src/dualcontrol/reference/data/ethnic_groups.yaml"
)
DATA = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))


def _short(name: str) -> str:
    return short_name(name, DATA["groups"], DATA["suffixes"])


def test_the_list_is_the_56_groups():
    assert len(DATA["groups"]) == len(set(DATA["groups"])) == 56


def test_autonomous_divisions_get_their_short_names():
    assert _short("怒江傈僳族自治州") == "怒江州"
    assert _short("红河哈尼族彝族自治州") == "红河州"
    assert _short("西双版纳傣族自治州") == "西双版纳州"
    assert _short("德宏傣族景颇族自治州") == "德宏州"
    assert _short("黔南布依族苗族自治州") == "黔南州"
    assert _short("镇宁布依族苗族自治县") == "镇宁县"
    assert _short("鄂伦春自治旗") == "鄂伦春自治旗"  # named after the group without 族: kept whole


def test_other_names_are_kept():
    for name in ("昆明市", "曲靖市", "五华区", "阿里地区", "锡林郭勒盟", ""):
        assert _short(name) == name
