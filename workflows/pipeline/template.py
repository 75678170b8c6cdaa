"""The shape of an action pipeline: which actions, in which order, with which rules.

A template is plain data. A running pipeline receives a full copy of the template version
it started with in its input, so editing the library never changes a running pipeline.
Nothing here may touch the network, the database or the clock: workflows import it.
"""

from dataclasses import dataclass

DEFAULT_TEMPLATE_ID = "b2b-default"
DEFAULT_CALENDAR_ID = "default"
DEFAULT_TIME_ZONE = "Asia/Shanghai"

# Roles an escalation or reminder can be addressed to, resolved per pipeline.
ROLE_REP = "rep"
ROLE_REGIONAL_MANAGER = "regional_manager"
ROLE_SALES_DIRECTOR = "sales_director"
ESCALATION_ROLES = (ROLE_REP, ROLE_REGIONAL_MANAGER, ROLE_SALES_DIRECTOR)

# How an action's hours are counted: every hour of the day, or only the working hours of
# its calendar (weekends, public holidays and make-up working days included).
CLOCK_WALL = "wall"
CLOCK_BUSINESS = "business"
CLOCKS = (CLOCK_WALL, CLOCK_BUSINESS)

# Departments a ticket rule may address.
DEPARTMENTS = ("legal", "logistics", "finance", "hr")

# What a quality bonus may ask of a completion, all read from the action.completed event:
# completed before its deadline; more answers than the action requires (at_least beyond
# the minimum); at least `at_least` evidence files presented.
QUALITY_CONDITIONS = ("on_time", "complete_answers", "evidence_at_least")
# Windows a one-off milestone counts completions in (the company's time zone).
MILESTONE_WINDOWS = ("week", "month", "quarter")


@dataclass(frozen=True)
class CalendarSpec:
    """A company calendar: when the business-hours clock runs.

    The template file names a holiday country and the company's own extra days; saving a
    template version resolves them into `days_off` and `workdays`, so a running pipeline
    judges with the exact dates of the version it started with, whatever the holiday
    package later learns. Dates are ISO strings (YYYY-MM-DD) in the calendar's time zone.
    """

    calendar_id: str = DEFAULT_CALENDAR_ID
    time_zone: str = DEFAULT_TIME_ZONE
    # Working periods of a working day, local "HH:MM" pairs, in order, not overlapping.
    working_hours: tuple[tuple[str, str], ...] = (("09:00", "12:00"), ("13:00", "18:00"))
    # Weekday numbers (Monday = 0) that are not worked unless listed in `workdays`.
    weekend: tuple[int, ...] = (5, 6)
    # ISO 3166 country whose public holidays and make-up working days apply; "" for none.
    holiday_country: str = "CN"
    extra_days_off: tuple[str, ...] = ()
    extra_workdays: tuple[str, ...] = ()
    # Resolved when the version is saved: holidays plus extra days off, and weekend days
    # worked (调休) plus extra workdays. An extra day wins over the package.
    days_off: tuple[str, ...] = ()
    workdays: tuple[str, ...] = ()
    # The years `days_off`/`workdays` were resolved for; outside them only weekends count.
    resolved_years: tuple[int, ...] = ()


@dataclass(frozen=True)
class EvidenceRequirement:
    """Files of one kind an action needs before it counts."""

    kind: str
    count: int = 1
    description: str = ""
    # Photos must have been captured between the action's start and its completion.
    captured_in_window: bool = False
    # Content types (or "type/" prefixes) that count; empty means any file.
    content_types: tuple[str, ...] = ()


@dataclass(frozen=True)
class AnswerRequirement:
    """Answers an action needs, e.g. the 3 questions the customer asked."""

    key: str
    count: int = 1
    description: str = ""
    # When set, every answer must be one of these (e.g. the configured response strategies).
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class EscalationLevel:
    """After this many hours open (counted on the action's clock), escalate to the role."""

    after_hours: float
    to_role: str


@dataclass(frozen=True)
class ReminderRule:
    """A reminder that repeats every `every_hours` while the action stays open."""

    key: str
    every_hours: float
    to_roles: tuple[str, ...] = (ROLE_REP,)
    # Stops after this many reminders; 0 means until the action closes.
    max_times: int = 0


@dataclass(frozen=True)
class TicketRule:
    """A ticket the action opens when it starts; the action cannot finish until resolved."""

    department: str
    kind: str
    response_target_minutes: int = 120


@dataclass(frozen=True)
class QualityBonus:
    """Extra points for a completion that meets a condition (e.g. a complete proposal)."""

    key: str
    points: int
    when: str
    at_least: int = 1


@dataclass(frozen=True)
class Milestone:
    """A one-off bonus: the `count`th completion of the action by a rep within one window
    (week, month or quarter) earns `points`, once per rep, action and window."""

    count: int
    per: str
    points: int


@dataclass(frozen=True)
class ActionTemplate:
    key: str
    name: str
    name_zh: str
    description: str = ""
    evidence: tuple[EvidenceRequirement, ...] = ()
    answers: tuple[AnswerRequirement, ...] = ()
    # The clock all of this action's hours are counted on, and its calendar.
    clock: str = CLOCK_WALL
    calendar: str = DEFAULT_CALENDAR_ID
    # Hours until the rep is warned that the deadline approaches; 0 = no warning.
    warning_hours: float = 0
    # Hours until the action is overdue (the overdue penalty applies once); 0 = no deadline.
    due_hours: float = 0
    escalations: tuple[EscalationLevel, ...] = ()
    reminders: tuple[ReminderRule, ...] = ()
    tickets: tuple[TicketRule, ...] = ()
    points_on_completion: int = 5
    points_when_overdue: int = -2
    # Multiplies completion points and quality bonuses (e.g. 1.5 for customer referrals).
    points_weight: float = 1.0
    quality_bonuses: tuple[QualityBonus, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    # Completing this action wins the pipeline. Declarative: validation refuses any action
    # listed after it (it could never be reached), so the workflow needs no branch for it.
    terminal: bool = False


@dataclass(frozen=True)
class PipelineTemplate:
    template_id: str
    version: int
    name: str
    actions: tuple[ActionTemplate, ...]
    name_zh: str = ""
    calendars: tuple[CalendarSpec, ...] = (CalendarSpec(),)
    # The customer-silence reminder: hours after the last touch (re-armed by every touch);
    # 0 switches it off. Counted on the silence clock and the default calendar.
    silence_reminder_hours: float = 72
    silence_reminder_to: tuple[str, ...] = (ROLE_REP, ROLE_REGIONAL_MANAGER)
    silence_clock: str = CLOCK_WALL

    @property
    def action_keys(self) -> tuple[str, ...]:
        return tuple(action.key for action in self.actions)

    def action(self, key: str) -> ActionTemplate | None:
        return next((action for action in self.actions if action.key == key), None)

    def calendar(self, calendar_id: str = DEFAULT_CALENDAR_ID) -> CalendarSpec:
        """The named calendar; validation guarantees every referenced one exists."""
        found = next((c for c in self.calendars if c.calendar_id == calendar_id), None)
        return found if found is not None else CalendarSpec(calendar_id=calendar_id)


PHOTO = ("image/",)
SCAN = ("application/pdf", "image/")

RESPONSE_STRATEGIES = (
    "cost_breakdown",
    "value_reframing",
    "reference_customer",
    "phased_payment",
    "bundle_offer",
    "trial_period",
    "competitor_comparison",
    "executive_sponsor",
)


def default_template() -> PipelineTemplate:
    """The default five-step B2B pipeline: appointment through contract archive."""
    actions = (
        ActionTemplate(key="appointment", name="Customer appointment", name_zh="客户预约"),
        ActionTemplate(
            key="onsite_diagnosis",
            name="On-site diagnosis",
            name_zh="现场诊断",
            evidence=(
                EvidenceRequirement(
                    "onsite_photo", 1, "a photo taken at the customer's site", True, PHOTO
                ),
            ),
        ),
        ActionTemplate(
            key="solution_demo",
            name="Solution demo",
            name_zh="方案演示",
            evidence=(
                EvidenceRequirement(
                    "onsite_photo", 3, "on-site photos taken during the demo", True, PHOTO
                ),
            ),
            answers=(
                AnswerRequirement("customer_questions", 3, "questions the customer asked"),
                AnswerRequirement(
                    "response_strategies", 3, "response strategies used", RESPONSE_STRATEGIES
                ),
            ),
        ),
        ActionTemplate(
            key="objection_handling",
            name="Objection handling",
            name_zh="异议处理",
            answers=(
                AnswerRequirement("customer_objections", 1, "what the customer objected to"),
                AnswerRequirement("response_strategies", 1, "strategies used", RESPONSE_STRATEGIES),
            ),
            due_hours=48,
            escalations=(EscalationLevel(48, ROLE_REGIONAL_MANAGER),),
        ),
        ActionTemplate(
            key="contract_archive",
            name="Contract archive",
            name_zh="合同归档",
            evidence=(
                EvidenceRequirement(
                    "signed_signature_page",
                    1,
                    "scan of the signed signature page",
                    content_types=SCAN,
                ),
                EvidenceRequirement(
                    "product_list", 1, "the contracted product list", content_types=SCAN
                ),
                EvidenceRequirement(
                    "service_commitment_letter",
                    1,
                    "the service commitment letter",
                    content_types=SCAN,
                ),
            ),
            tickets=(TicketRule("legal", "contract_review", 120),),
            terminal=True,
        ),
    )
    return PipelineTemplate(
        template_id=DEFAULT_TEMPLATE_ID,
        version=1,
        name="B2B five-step pipeline",
        actions=actions,
    )
