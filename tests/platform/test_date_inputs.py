"""Dates in forms render as ISO ``2026-11-29`` in the Chinese interface too (issue 14).

Django's zh_Hans formats render a date widget as ``2026/11/29``; ``<input type="date">`` rejects
that and shows an empty field, so saving a form without touching it wiped the date.  Every form
class of every app with a date field is checked here (found by import, so a new form is covered
without editing this file); the browser test ``tests/browser/test_date_kept.py`` saves a real one.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pkgutil

import pytest
from django import forms
from django.utils import translation

import dualcontrol
from tests.auth import login

DAY = dt.date(2026, 11, 29)
MOMENT = dt.datetime(2026, 11, 29, 20, 45, 0)


def _form_classes() -> list[type[forms.BaseForm]]:
    found: dict[str, type[forms.BaseForm]] = {}
    for info in pkgutil.iter_modules(dualcontrol.__path__):
        name = f"dualcontrol.{info.name}.forms"
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        for obj in vars(module).values():
            if (
                inspect.isclass(obj)
                and issubclass(obj, forms.BaseForm)
                and obj.__module__.startswith("dualcontrol.")
            ):
                found[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [found[k] for k in sorted(found)]


def _date_fields(kind: type[forms.Field]) -> list[tuple[str, str, forms.Field]]:
    return [
        (f"{cls.__module__}.{cls.__qualname__}.{name}", name, field)
        for cls in _form_classes()
        for name, field in cls.base_fields.items()
        if isinstance(field, kind)
    ]


DATE_FIELDS = _date_fields(forms.DateField)
DATETIME_FIELDS = _date_fields(forms.DateTimeField)


def test_the_forms_with_dates_are_found():
    """The letter-signing, outlet, limit and assessment forms named in the issue are among them."""
    ids = {i for i, _n, _f in DATE_FIELDS}
    for expected in (
        "dualcontrol.targets.forms.SignForm.signed_on",
        "dualcontrol.monitoring.forms.OutletForm.connected_on",
        "dualcontrol.monitoring.forms.LimitForm.valid_from",
        "dualcontrol.monitoring.forms.LimitForm.valid_to",
    ):
        assert expected in ids
    assert any(i.startswith("dualcontrol.assessment.forms.") for i in ids)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.parametrize(("ident", "name", "field"), DATE_FIELDS, ids=[i for i, *_ in DATE_FIELDS])
def test_date_widgets_render_iso_and_read_it_back(ident, name, field, language):
    with translation.override(language):
        html = field.widget.render(name, field.prepare_value(DAY))
        assert 'value="2026-11-29"' in html, (ident, html)
        assert "2026/11/29" not in html
        assert field.clean("2026-11-29") == DAY


@pytest.mark.parametrize(
    ("ident", "name", "field"), DATETIME_FIELDS, ids=[i for i, *_ in DATETIME_FIELDS]
)
def test_datetime_widgets_render_iso_in_chinese(ident, name, field):
    with translation.override("zh-hans"):
        html = field.widget.render(name, field.prepare_value(MOMENT))
        assert "2026-11-29" in html and "2026/11/29" not in html, (ident, html)


def test_chinese_spellings_are_still_accepted_when_typed():
    field = forms.DateField()
    with translation.override("zh-hans"):
        for text in ("2026-11-29", "2026/11/29", "2026年11月29日"):
            assert field.clean(text) == DAY


@pytest.mark.django_db
def test_the_outlet_edit_page_shows_its_connection_date_in_iso(world):
    from django.test import Client

    from tests.monitoring.helpers import make_outlet

    outlet = make_outlet(world.unit, connected_on=DAY)
    c = Client()
    login(c, world.users["province_admin"])
    page = c.get(f"/monitoring/outlets/{outlet.pk}/edit/").content.decode()
    assert 'lang="zh-hans"' in page
    assert 'name="connected_on" value="2026-11-29"' in page
