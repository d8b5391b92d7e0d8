"""The ledger's refusals in the user's language (the core gives English reasons plus a code)."""

from __future__ import annotations

from django.utils.translation import gettext as _

from dualcontrol.core.ledger import LedgerRefused


def refusal_text(exc: LedgerRefused) -> str:
    """A sentence for the officer or energy manager; the core's English for uncoded refusals."""
    p = {k: ("" if v is None else v) for k, v in exc.params.items()}
    texts = {
        "balance": _(
            "账户 %(account)s 持有 %(unit_type)s %(vintage)s 年度 %(held)s 吨，不足 %(amount)s 吨"
        ),
        "offset_cap": _(
            "%(unit_type)s 超过抵销上限：已用 %(used)s + 本次 %(amount)s > 上限 %(cap)s"
            "（应清缴量 %(obligation)s 的 %(pct)s）"
        ),
        "later_vintage": _(
            "%(vintage)s 年度配额不能用于 %(year)s 年度清缴（不得预借以后年度配额）"
        ),
        "no_obligation": _("尚无经确认的 %(year)s 年度应清缴量，不能清缴"),
        "four_eyes": _("须由申请人以外的另一名人员复核"),
        "same_account": _("转出和转入账户相同"),
        "not_open": _("账户 %(account)s 未开立"),
        "account_open": _("账户 %(account)s 已开立"),
        "unit_type": _("未知品种 %(unit_type)s"),
        "corrected": _("交易 #%(seq)s 已更正过"),
        "reverse_balance": _(
            "账户 %(account)s 持有 %(unit_type)s %(held)s 吨，不足冲正所需的 %(amount)s 吨"
        ),
        "whole": _("数量须为整数吨：%(amount)s"),
        "positive": _("数量须为正数：%(amount)s"),
    }
    template = texts.get(exc.code)
    if template is None:
        return str(exc)
    try:
        return template % p
    except (KeyError, TypeError, ValueError):
        return str(exc)
