"""Every source text of the reference data, as an officer sees it (issue 14): official titles and
numbers, the quotation, or "平台规则，未找到官方来源" — never a path, an address, "NOT FOUND" or an
English working note."""

from __future__ import annotations

import re
from importlib import resources

import pytest

from dualcontrol.core.sources import PLATFORM_RULE
from dualcontrol.reference import load_yaml
from dualcontrol.reference.sources import official_source

FILES = sorted(
    p.name
    for p in resources.files("dualcontrol.reference.data").iterdir()
    if p.name.endswith(".yaml")
)
LEAK = re.compile(
    r"shared/|\.txt|\.md\b|\.csv\b|\.yaml|https?://|NOT FOUND|platform rule|SECONDARY", re.I
)


def _sources(node, in_source=False):
    if isinstance(node, dict):
        for k, v in node.items():
            if k != "references":
                yield from _sources(v, in_source or "source" in str(k))
    elif isinstance(node, list):
        for v in node:
            yield from _sources(v, in_source)
    elif in_source and isinstance(node, str):
        yield node


@pytest.mark.parametrize("name", FILES)
def test_every_source_reads_officially(name):
    _version, data = load_yaml(name)
    texts = list(_sources(data))
    for text in texts:
        shown = official_source(text)
        assert not LEAK.search(shown), (name, text[:120], shown)
        assert (
            shown == PLATFORM_RULE
            or "《" in shown
            or "号" in shown
            or "“" in shown
            or re.search(r"\d{2,}-\d{4}", shown)
        ), (name, shown)


def test_the_walk_sees_the_sources():
    n = sum(len(list(_sources(load_yaml(name)[1]))) for name in FILES)
    assert n > 300


def test_the_files_own_references_resolve():
    _v, data = load_yaml("rights_rules.yaml")
    assert official_source(data["energy_rights"]["definition_source"]).startswith(
        "《福建省用能权交易管理暂行办法》（福建省人民政府令第212号）"
    )
    _v, data = load_yaml("project_rules.yaml")
    assert (
        official_source(data["measures"]["cod"]["source"])
        == "《2021年主要污染物总量减排核算技术指南》"
    )
