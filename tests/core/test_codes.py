"""GB 32100-2015 USCC check character and GB/T 2260 division levels."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dualcontrol.core.codes import USCC_CHARSET, CodeError, division_level, make_uscc, validate_uscc


def test_published_example_validates():
    # the example code printed in GB 32100-2015 and widely reproduced
    assert validate_uscc("91350100M000100Y43") == "91350100M000100Y43"


def test_lower_case_is_normalised():
    assert validate_uscc(" 91350100m000100y43 ") == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y44", "check character"),
        ("91350100M0001I0Y43", "not allowed"),
        ("91000000M000100Y43", "division code"),
    ],
)
def test_bad_codes_say_why(code, reason):
    with pytest.raises(CodeError, match=reason):
        validate_uscc(code)


@given(st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9))
def test_built_codes_validate_and_one_changed_character_is_caught(body):
    code = make_uscc("91", "530102", body)
    assert validate_uscc(code) == code
    wrong = USCC_CHARSET[(USCC_CHARSET.index(code[-1]) + 1) % 31]
    with pytest.raises(CodeError):
        validate_uscc(code[:-1] + wrong)


@pytest.mark.parametrize(
    ("code", "level"), [("530000", "province"), ("530100", "prefecture"), ("530102", "county")]
)
def test_division_levels(code, level):
    assert division_level(code) == level
