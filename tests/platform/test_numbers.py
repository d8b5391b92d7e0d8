"""Numbers as published (issue 14): one formatting layer, its reference data, and the renderings
the issue named ("14.7397 %", "17.0000%", "万吨" for 万吨标准煤, "0.0 万吨" beside "2 %").

Rounding is half up on the magnitude (四舍五入), as the bulletins print: 2.675 → 2.68,
-3.805 → -3.81 (a float is read through its shortest decimal text, so 2.675 is a tie, not
2.67499…).  Source of each precision: ``reference/data/number_formats.yaml``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation

from dualcontrol.accounts.models import Role
from dualcontrol.core import numbers
from dualcontrol.reference import load_yaml
from dualcontrol.reference.number_formats import (
    NUMBER_FORMATS_FILE,
    fmt,
    kind_for_unit,
    number_format,
    number_formats,
    stored_units,
)
from tests.auth import login

# kind → (stored value, zh, en): one row per kind of the file, each on a rounding boundary
EXPECTED = {
    "pct": (14.7397, "14.74%", "14.74%"),
    "frac_pct": (0.17, "17.00%", "17.00%"),
    "growth_pct": (7.05, "7.1%", "7.1%"),
    "growth_frac_pct": (-0.0805, "-8.1%", "-8.1%"),
    "national_frac_pct": (-0.0015, "-0.2%", "-0.2%"),
    "pp": (0.125, "0.13 个百分点", "0.13 pp"),
    "energy_tce": (1234567.005, "1,234,567.01 吨标准煤", "1,234,567.01 tce"),
    "energy_10k_tce": (400, "0.04 万吨标准煤", "0.04 10,000 tce"),
    "intensity_tce_per_10k_yuan": (0.8685, "0.869 吨标准煤/万元", "0.869 tce per 10,000 yuan"),
    "electricity_kwh": (12345.5, "12,346 千瓦时", "12,346 kWh"),
    "co2_t": (20200000, "20,200,000.00 吨二氧化碳", "20,200,000.00 tCO2"),
    "co2_10k_t": (125, "0.01 万吨二氧化碳", "0.01 10,000 tCO2"),
    "pollutant_t": (Decimal("0.005"), "0.01 吨", "0.01 t"),
    "pollutant_10k_t": (22946000, "2,294.6 万吨", "2,294.6 10,000 t"),
    "yuan": (Decimal("1999.995"), "2,000.00 元", "2,000.00 yuan"),
    "money_10k_yuan": (0.125, "0.13 万元", "0.13 10,000 yuan"),
}


def test_every_kind_of_the_file_is_tested_and_has_a_source():
    assert set(number_formats()) == set(EXPECTED)
    for kind, f in number_formats().items():
        assert f.source, kind
        assert f.version.startswith(NUMBER_FORMATS_FILE)
    _version, data = load_yaml(NUMBER_FORMATS_FILE)
    assert data["rounding"] == "half_up"
    assert set(stored_units().values()) <= set(number_formats())


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_each_kind_prints_as_published_in_both_languages(kind):
    value, zh, en = EXPECTED[kind]
    assert fmt(value, kind, lang="zh") == zh
    assert fmt(value, kind, lang="en") == en
    assert fmt(None, kind) == "—" and fmt("", kind) == "—"
    # the number alone has the same digits
    assert fmt(value, kind, unit=False, lang="zh") == zh.split(" ")[0].removesuffix("%")


@pytest.mark.parametrize(
    ("value", "kind", "shown"),
    [
        (2.675, "pct", "2.68"),  # binary 2.67499… : the tie is read from the decimal text
        (-3.805, "pct", "-3.81"),  # half up on the magnitude, as core.bulletin
        (2.665, "pct", "2.67"),  # not banker's rounding (2.66)
        (-0.004, "pct", "0.00"),  # no "-0.00"
        (Decimal("-0.00005"), "frac_pct", "-0.01"),
        (0.00004999, "frac_pct", "0.00"),
        (0.05, "growth_pct", "0.1"),
        (49999, "energy_10k_tce", "5.00"),
        (49949, "energy_10k_tce", "4.99"),
        ("14.7397", "pct", "14.74"),
    ],
)
def test_boundary_rounding_is_half_up(value, kind, shown):
    assert fmt(value, kind, unit=False) == shown


def test_bad_values_and_unknown_kinds_are_refused():
    with pytest.raises(numbers.NumberFormatError, match="unknown quantity kind 'energy_wan'"):
        number_format("energy_wan")
    with pytest.raises(numbers.NumberFormatError, match="not a number"):
        fmt("abc", "pct")
    assert fmt(float("nan"), "pct") == "NaN"


def test_excel_formats_headers_and_stored_units_come_from_the_same_data():
    assert numbers.excel_number_format(number_format("energy_10k_tce")) == "#,##0.00"
    assert numbers.excel_number_format(number_format("pct")) == "0.00"
    assert numbers.excel_number_format(number_format("electricity_kwh")) == "#,##0"
    assert numbers.header("能耗", number_format("energy_10k_tce")) == "能耗（万吨标准煤）"
    assert numbers.header("Energy", number_format("energy_10k_tce"), lang="en") == (
        "Energy (10,000 tce)"
    )
    assert kind_for_unit("%") == "pct" and kind_for_unit("tce") == "energy_10k_tce"
    assert kind_for_unit("m3") is None
    hit = numbers.unit_kind("万吨标准煤", number_formats())
    assert hit is not None and hit.kind == "energy_10k_tce"


def test_the_active_language_picks_the_label():
    with translation.override("en"):
        assert fmt(400, "energy_10k_tce") == "0.04 10,000 tce"
    with translation.override("zh-hans"):
        assert fmt(400, "energy_10k_tce") == "0.04 万吨标准煤"


# ---------------------------------------------------------------------------------------------
# the template filters and the renderings the issue named


def _render(text: str, **context) -> str:
    return Template(text).render(Context(context))


def test_template_filters():
    out = _render(
        '{% load number_tags %}{{ a|fmt:"pct" }}|{{ b|fmtn:"energy_10k_tce" }}|'
        '{% unit "energy_10k_tce" %}|{{ c|fmtu:"tce" }}|{{ d|fmtu:"m3" }}|{{ "tce"|shown_unit }}'
        '|{{ n|fmt:"pct" }}|{{ "x"|fmt:"pct" }}',
        a=Decimal("14.7397"),
        b=400,
        c=Decimal("4000"),
        d=5,
        n=None,
    )
    assert out == "14.74%|0.04|万吨标准煤|0.40 万吨标准煤|5 m3|万吨标准煤|—|x"
    with pytest.raises(numbers.NumberFormatError):
        _render('{% load number_tags %}{{ 1|fmt:"nope" }}')


def test_assessment_figures_are_not_printed_with_four_decimals():
    out = _render(
        '{% load assessment_extras %}{{ a|figure:"frac" }}|{{ b|figure:"tce" }}', a="0.17", b=5
    )
    assert out == "17.00%|5.00 吨标准煤"  # was "17.0000%" and "5.00 tce"


def test_targets_filters_print_10k_tce_with_the_published_precision():
    out = _render(
        '{% load targets_extras %}{{ a|wan:1 }}|{{ a|fig:"tce" }}|{{ f|fig:"frac" }}', a=400, f=0.02
    )
    assert out == "0.04|0.04 万吨标准煤|2.00%"  # was "0.0" / "0.0 万tce" beside "2.00%"


@pytest.mark.django_db
def test_a_decomposed_target_is_shown_as_published(world):
    from dualcontrol.targets.models import Indicator, PeriodKind, Target

    common = {
        "division": world.city,
        "period_kind": PeriodKind.FIVE_YEAR,
        "base_year": 2025,
        "end_year": 2030,
        "source_document": "分解方案",
    }
    t = Target.objects.create(
        indicator=Indicator.ENERGY_INTENSITY_REDUCTION,
        base_value=Decimal("14.7397"),
        unit="%",
        **common,
    )
    Target.objects.create(
        indicator=Indicator.ENERGY_INCREMENT, base_value=Decimal("4000"), unit="tce", **common
    )
    client = login(Client(), world.users[Role.PROVINCE_ADMIN])
    detail = client.get(f"/targets/{t.pk}/").content.decode()
    assert "14.74%" in detail and "14.7397" not in detail
    listing = client.get("/targets/list/").content.decode()
    assert "14.74" in listing and "14.7397" not in listing
    assert "0.40" in listing and "万吨标准煤" in listing


def test_drilldown_and_comparison_name_the_unit_in_full():
    from pathlib import Path

    import dualcontrol

    root = Path(dualcontrol.__file__).parent / "targets" / "templates" / "targets"
    for name in ("drilldown.html", "_comparison.html", "workbench.html"):
        text = (root / name).read_text(encoding="utf-8")
        bare = [
            part for part in text.split("万吨")[1:] if not part.startswith(("标准煤", "二氧化碳"))
        ]
        assert not bare, (name, [b[:20] for b in bare])
