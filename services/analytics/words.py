"""How the analytics service names action and strategy keys in the sentences it writes, in
English and in Chinese.

Keys are words joined by underscores (contract_archive -> "contract archive"). The default
template's actions and response strategies have Chinese names here; any other key is shown
as its English words in the Chinese sentence too (a company's own action names live in its
templates, which the read model does not keep).
"""

from __future__ import annotations

from types import MappingProxyType

CHINESE = MappingProxyType(
    {
        # The default pipeline's actions.
        "appointment": "客户预约",
        "onsite_diagnosis": "现场诊断",
        "solution_demo": "方案演示",
        "objection_handling": "异议处理",
        "contract_archive": "合同归档",
        # The default template's response strategies.
        "cost_breakdown": "成本拆解",
        "value_reframing": "价值重塑",
        "reference_customer": "标杆客户案例",
        "phased_payment": "分期付款",
        "bundle_offer": "组合优惠",
        "trial_period": "试用期",
        "competitor_comparison": "竞品对比",
        "executive_sponsor": "高层支持",
        # Topics a rep filters outcomes by.
        "price": "价格",
    }
)


def label(key: str) -> str:
    """A key as English words: contract_archive -> contract archive."""
    return key.replace("_", " ")


def label_zh(key: str) -> str:
    """A key's Chinese name, or its English words when it has none."""
    return CHINESE.get(key.strip().lower(), label(key))


def percent(share: float) -> str:
    return f"{round(share * 100)}%"
