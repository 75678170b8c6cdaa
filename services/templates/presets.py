"""Templates a company starts from: the default five-step pipeline and a library of B2B
action types, each with its English and Chinese name and sensible rules.

A company exports a preset (`salesflow template export --preset b2b-library`), removes
the actions it does not use, adds its own, reorders, and imports the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    PHOTO,
    RESPONSE_STRATEGIES,
    ROLE_REGIONAL_MANAGER,
    ROLE_REP,
    ROLE_SALES_DIRECTOR,
    SCAN,
    ActionTemplate,
    AnswerRequirement,
    EscalationLevel,
    EvidenceRequirement,
    PipelineTemplate,
    ReminderRule,
    TicketRule,
    default_template,
)

LIBRARY_TEMPLATE_ID = "b2b-library"

PAYMENT_TERMS = (
    "prepayment",
    "milestone_payments",
    "net_30",
    "net_60",
    "net_90",
    "letter_of_credit",
)
DISCOUNT_REASONS = (
    "volume",
    "strategic_account",
    "competitive_pressure",
    "multi_year_commitment",
    "bundle",
)

# A working week on the business clock: five days of eight working hours.
WORKING_WEEK = 40.0


def _escalate(*levels: tuple[float, str]) -> tuple[EscalationLevel, ...]:
    return tuple(EscalationLevel(hours, role) for hours, role in levels)


# The twelve B2B action types, in the order a long enterprise deal usually meets them.
ACTION_TYPES: tuple[ActionTemplate, ...] = (
    ActionTemplate(
        key="requirements_survey",
        name="Requirements survey",
        name_zh="需求调研",
        description="Understand what the customer needs and who decides.",
        evidence=(EvidenceRequirement("survey_notes", 1, "requirements notes", False, SCAN),),
        answers=(
            AnswerRequirement("customer_needs", 3, "needs the customer stated"),
            AnswerRequirement("decision_makers", 1, "who takes the buying decision"),
        ),
        clock=CLOCK_BUSINESS,
        warning_hours=32,
        due_hours=WORKING_WEEK,
        escalations=_escalate((WORKING_WEEK, ROLE_REGIONAL_MANAGER)),
    ),
    ActionTemplate(
        key="site_survey",
        name="Site survey",
        name_zh="现场勘察",
        description="Inspect the installation site: space, power, access.",
        evidence=(EvidenceRequirement("site_photo", 3, "photos of the site", True, PHOTO),),
        answers=(AnswerRequirement("site_constraints", 1, "constraints found on site"),),
        due_hours=72,
        escalations=_escalate((72, ROLE_REGIONAL_MANAGER)),
    ),
    ActionTemplate(
        key="technical_parameter_confirmation",
        name="Technical parameter confirmation",
        name_zh="技术参数确认",
        description="The customer's engineer confirms the technical parameters in writing.",
        evidence=(
            EvidenceRequirement(
                "parameter_sheet",
                1,
                "parameter sheet signed by the customer's engineer",
                False,
                SCAN,
            ),
        ),
        answers=(AnswerRequirement("confirmed_parameters", 3, "key parameters confirmed"),),
        clock=CLOCK_BUSINESS,
        warning_hours=16,
        due_hours=24,
        escalations=_escalate((24, ROLE_REGIONAL_MANAGER), (48, ROLE_SALES_DIRECTOR)),
    ),
    ActionTemplate(
        key="pilot_trial",
        name="Pilot / trial",
        name_zh="试用验证",
        description="The customer tries the product on a real workload.",
        evidence=(EvidenceRequirement("trial_report", 1, "the trial report", False, SCAN),),
        answers=(AnswerRequirement("trial_results", 2, "results the customer observed"),),
        warning_hours=600,
        due_hours=720,
        escalations=_escalate((720, ROLE_REGIONAL_MANAGER)),
        reminders=(ReminderRule("trial_follow_up", 168, (ROLE_REP,), 4),),
    ),
    ActionTemplate(
        key="reference_visit",
        name="Reference customer visit",
        name_zh="标杆客户参观",
        description="The customer visits a reference installation.",
        evidence=(EvidenceRequirement("visit_photo", 2, "photos of the visit", True, PHOTO),),
        answers=(AnswerRequirement("customer_feedback", 1, "what the customer said"),),
        due_hours=336,
        escalations=_escalate((336, ROLE_REGIONAL_MANAGER)),
    ),
    ActionTemplate(
        key="bidding_documents",
        name="Bidding documents",
        name_zh="投标文件准备",
        description="Prepare the bid; legal reviews it before submission.",
        evidence=(EvidenceRequirement("bid_document", 1, "the bid as submitted", False, SCAN),),
        clock=CLOCK_BUSINESS,
        warning_hours=16,
        due_hours=24,
        escalations=_escalate((24, ROLE_SALES_DIRECTOR)),
        tickets=(TicketRule("legal", "bid_review", 240),),
        points_on_completion=10,
        points_when_overdue=-5,
    ),
    ActionTemplate(
        key="pricing_approval",
        name="Pricing approval",
        name_zh="价格审批",
        description="Finance approves the offered price and any discount.",
        answers=(AnswerRequirement("discount_reasons", 1, "why the discount", DISCOUNT_REASONS),),
        clock=CLOCK_BUSINESS,
        due_hours=16,
        escalations=_escalate((16, ROLE_SALES_DIRECTOR)),
        tickets=(TicketRule("finance", "price_approval", 240),),
    ),
    ActionTemplate(
        key="payment_terms_negotiation",
        name="Payment terms negotiation",
        name_zh="付款条件谈判",
        description="Agree how and when the customer pays.",
        evidence=(EvidenceRequirement("payment_terms_draft", 1, "the agreed terms", False, SCAN),),
        answers=(
            AnswerRequirement("payment_terms", 1, "the terms agreed", PAYMENT_TERMS),
            AnswerRequirement("response_strategies", 1, "strategies used", RESPONSE_STRATEGIES),
        ),
        clock=CLOCK_BUSINESS,
        warning_hours=24,
        due_hours=WORKING_WEEK,
        escalations=_escalate(
            (WORKING_WEEK, ROLE_REGIONAL_MANAGER), (2 * WORKING_WEEK, ROLE_SALES_DIRECTOR)
        ),
        tickets=(TicketRule("finance", "payment_terms_review", 240),),
    ),
    ActionTemplate(
        key="delivery_plan",
        name="Delivery plan confirmation",
        name_zh="交付计划确认",
        description="Logistics and the customer agree dates, route and site access.",
        evidence=(EvidenceRequirement("delivery_plan", 1, "the confirmed plan", False, SCAN),),
        clock=CLOCK_BUSINESS,
        due_hours=24,
        escalations=_escalate((24, ROLE_REGIONAL_MANAGER)),
        tickets=(TicketRule("logistics", "delivery_plan", 240),),
    ),
    ActionTemplate(
        key="installation_acceptance",
        name="Installation acceptance",
        name_zh="安装验收",
        description="The customer signs off the installation.",
        evidence=(
            EvidenceRequirement(
                "acceptance_certificate", 1, "the signed acceptance certificate", False, SCAN
            ),
            EvidenceRequirement("installation_photo", 2, "photos of the installation", True, PHOTO),
        ),
        due_hours=168,
        escalations=_escalate((168, ROLE_REGIONAL_MANAGER)),
    ),
    ActionTemplate(
        key="training",
        name="Customer training",
        name_zh="客户培训",
        description="Train the customer's users and administrators.",
        evidence=(
            EvidenceRequirement("attendance_sheet", 1, "signed attendance sheet", False, SCAN),
            EvidenceRequirement("training_photo", 1, "a photo of the session", True, PHOTO),
        ),
        answers=(AnswerRequirement("trained_roles", 1, "who was trained"),),
        due_hours=336,
    ),
    ActionTemplate(
        key="after_sales_handover",
        name="After-sales handover",
        name_zh="售后交接",
        description="Hand the account to the after-sales service team.",
        evidence=(
            EvidenceRequirement("handover_form", 1, "the signed handover form", False, SCAN),
        ),
        answers=(AnswerRequirement("service_contacts", 1, "the customer's service contacts"),),
        clock=CLOCK_BUSINESS,
        due_hours=16,
    ),
)


def action_type(key: str) -> ActionTemplate:
    """One library action type by key; KeyError for an unknown one."""
    for action in ACTION_TYPES:
        if action.key == key:
            return action
    raise KeyError(key)


def library_template() -> PipelineTemplate:
    """The five default steps with the twelve action types in between and after them.

    Meant to be trimmed: after the contract come delivery, installation, training and the
    handover, so here the handover (not the contract archive) wins the deal.
    """
    default = {action.key: action for action in default_template().actions}
    order = (
        default["appointment"],
        action_type("requirements_survey"),
        action_type("site_survey"),
        default["onsite_diagnosis"],
        action_type("technical_parameter_confirmation"),
        default["solution_demo"],
        action_type("pilot_trial"),
        action_type("reference_visit"),
        action_type("bidding_documents"),
        action_type("pricing_approval"),
        default["objection_handling"],
        action_type("payment_terms_negotiation"),
        replace(default["contract_archive"], terminal=False),
        action_type("delivery_plan"),
        action_type("installation_acceptance"),
        action_type("training"),
        replace(action_type("after_sales_handover"), terminal=True),
    )
    return PipelineTemplate(
        template_id=LIBRARY_TEMPLATE_ID,
        version=1,
        name="B2B action library",
        name_zh="B2B 销售动作库",
        actions=order,
    )


PRESETS: dict[str, Callable[[], PipelineTemplate]] = {
    default_template().template_id: default_template,
    LIBRARY_TEMPLATE_ID: library_template,
}


def preset(name: str) -> PipelineTemplate:
    """A preset by name; KeyError names the known ones."""
    try:
        return PRESETS[name]()
    except KeyError:
        raise KeyError(f"unknown preset {name!r} (known: {', '.join(PRESETS)})") from None
