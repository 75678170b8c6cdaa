"""Template files: what a sales-ops person reads and writes, and every problem they can make."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace

import pytest

from services.templates.diff import diff_templates
from services.templates.presets import ACTION_TYPES, PRESETS, library_template
from services.templates.validation import check_template_text, validate_template
from services.templates.yaml_format import dump_template, read_template
from workflows.pipeline.template import PipelineTemplate, default_template

# One file with every kind of problem the library refuses.
EVERY_PROBLEM = """
id: hospital-supplies
name: Hospital supplies
unexpected_field: 1
calendars:
  - id: default
    time_zone: Asia/Nowhere
    working_hours: ["09:00-12:00", "13:00-11:00"]
    weekend: [saturday, sunday]
    extra_days_off: ["2026-02-30", "2026-10-01"]
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
    time:
      clock: lunar
      calendar: shanghai_office
      due_hours: 0
      escalations:
        - {after_hours: 48, to: boss}
        - {after_hours: -1, to: regional_manager}
    points: {completion: 5, overdue: }
  - key: hospital_code_filing
    name: Hospital consumable code filing
    name_zh: 医院耗材编码备案
    evidence:
      - {kind: filing_receipt, count: three}
    tickets:
      - {department: procurement, kind: code_filing, response_target_minutes: 0}
    terminal: true
  - key: appointment
    name: Appointment again
    name_zh: 再次预约
"""


def strip_version(template: PipelineTemplate) -> PipelineTemplate:
    return replace(template, version=0)


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_round_trips_through_its_file(name):
    template = PRESETS[name]()
    text = dump_template(template)

    read, problems = read_template(text)
    assert problems == []
    assert read == strip_version(template)
    assert validate_template(template) == []
    # Chinese stays readable in the file, and the header explains the fields.
    assert "客户预约" in text and "\\u" not in text
    assert text.startswith("# salesflow action template")


def test_the_library_offers_twelve_b2b_action_types_with_english_and_chinese_names():
    assert len(ACTION_TYPES) == 12
    names = {action.key: (action.name, action.name_zh) for action in ACTION_TYPES}
    assert names["technical_parameter_confirmation"] == (
        "Technical parameter confirmation",
        "技术参数确认",
    )
    assert names["payment_terms_negotiation"] == ("Payment terms negotiation", "付款条件谈判")
    assert all(name and name_zh for name, name_zh in names.values())
    # The library preset holds the five default steps and all twelve types, and is valid.
    library = library_template()
    assert set(library.action_keys) >= set(names) | set(default_template().action_keys)
    assert [a.key for a in library.actions if a.terminal] == ["after_sales_handover"]


def test_a_file_with_every_kind_of_problem_is_refused_listing_each_one():
    checked = check_template_text(EVERY_PROBLEM)

    assert not checked.ok
    found = {str(problem) for problem in checked.problems}
    expected = [
        ("unexpected_field", "unknown field"),
        ("calendars[0].time_zone", "unknown time zone 'Asia/Nowhere'"),
        ("calendars[0].working_hours[1]", "ends before it starts"),
        ("calendars[0].extra_days_off[0]", "'2026-02-30' is not a date"),
        ("actions[0].time.clock", "unknown clock 'lunar'"),
        ("actions[0].time.calendar", "unknown calendar 'shanghai_office'"),
        ("actions[0].time.due_hours", "greater than 0 hours, got 0"),
        ("actions[0].time.escalations[0].to", "unknown role 'boss' (known: rep, regional_manager"),
        ("actions[0].time.escalations[1].after_hours", "greater than 0 hours, got -1"),
        ("actions[0].points.overdue", "a points rule needs a value"),
        ("actions[1].evidence[0].count", "must be a whole number"),
        ("actions[1].tickets[0].department", "unknown department 'procurement'"),
        ("actions[1].tickets[0].response_target_minutes", "must be at least 1"),
        ("actions[2]", "can never be reached: actions[1] (hospital_code_filing) is terminal"),
        ("actions[2].key", "duplicate action key 'appointment' (also actions[0])"),
    ]
    for path, words in expected:
        assert any(line.startswith(f"{path}: ") and words in line for line in found), (
            path,
            words,
            sorted(found),
        )
    # Each problem once, nothing else reported.
    assert len(checked.problems) == len(expected), sorted(found)


@pytest.mark.parametrize(
    "text, words",
    [
        ("", "must be a mapping"),
        ("- just\n- a list\n", "must be a mapping"),
        ("id: [unclosed\n", "not valid YAML: line 2"),
        ("id: a\nid: b\n", "field 'id' is written twice"),
        ("id: x\nname: y\nactions: 5\n", "actions: must be a list"),
        ("id: x\nname: y\nactions: []\n", "needs at least one action"),
        ("id: x\nname: y\nactions:\n  - plain text\n", "actions[0]: must be a mapping"),
        ("id: x\nname: y\nactions:\n  - {key: a, name: A, name_zh: 甲, terminal: maybe}\n", "true"),
        ("\x00\x01binary", "not valid YAML"),
    ],
)
def test_a_file_that_cannot_be_read_is_a_problem_never_a_traceback(text, words):
    checked = check_template_text(text)
    assert not checked.ok
    assert any(words in str(problem) for problem in checked.problems), checked.problems


def test_what_a_file_leaves_out_takes_the_defaults_its_header_names():
    checked = check_template_text(
        "id: cold-chain\nname: Cold chain\nactions:\n"
        "  - {key: cold_chain_plan, name: Cold-chain transport plan, name_zh: 冷链运输方案确认}\n"
    )
    assert checked.ok, checked.problems
    [action] = checked.template.actions
    assert (action.points_on_completion, action.points_when_overdue) == (5, -2)
    assert (action.clock, action.calendar, action.due_hours) == ("wall", "default", 0)
    assert checked.template.silence_reminder_hours == 72
    assert [c.calendar_id for c in checked.template.calendars] == ["default"]

    silent = check_template_text(
        "id: quiet\nname: Quiet\nsilence_reminder: false\nactions:\n"
        "  - {key: a, name: A, name_zh: 甲}\n"
    )
    assert silent.ok and silent.template.silence_reminder_hours == 0


def test_an_answer_needing_more_choices_than_exist_makes_the_action_impossible():
    template = default_template()
    demo = template.action("solution_demo")
    narrowed = replace(demo.answers[1], choices=("cost_breakdown", "trial_period"))
    broken = replace(
        template,
        actions=tuple(
            replace(a, answers=(demo.answers[0], narrowed)) if a.key == "solution_demo" else a
            for a in template.actions
        ),
    )
    problems = {str(p) for p in validate_template(broken)}
    assert any(p.startswith("actions[2].answers[1].count: needs 3 distinct") for p in problems)
    assert any(p.startswith("actions[3]: action 'objection_handling' can never") for p in problems)


def test_a_diff_names_each_action_and_field_that_changed():
    before = default_template()
    cold_chain = replace(
        library_template().action("delivery_plan"),
        key="cold_chain_plan",
        name="Cold-chain transport plan confirmation",
        name_zh="冷链运输方案确认",
    )
    objection = replace(before.action("objection_handling"), due_hours=24)
    after = replace(
        before,
        actions=(
            before.action("appointment"),
            cold_chain,
            before.action("onsite_diagnosis"),
            objection,
            before.action("contract_archive"),
        ),
    )

    lines = [change.line() for change in diff_templates(before, after)]

    assert (
        "+ action cold_chain_plan (Cold-chain transport plan confirmation / 冷链运输方案确认) "
        "at step 2" in lines
    )
    assert "- action solution_demo" in lines
    assert "~ action objection_handling: time.due_hours 48 -> 24" in lines
    assert diff_templates(before, before) == []


def salesflow_cli(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "salesflow.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_cli_starts_from_a_preset_and_validates_offline(tmp_path):
    preset = salesflow_cli(
        "template", "export", "b2b-library", "--preset", "-o", "mine.yaml", cwd=tmp_path
    )
    assert preset.returncode == 0, preset.stderr
    valid = salesflow_cli("template", "validate", "mine.yaml", cwd=tmp_path)
    assert valid.returncode == 0 and "17 actions" in valid.stdout

    (tmp_path / "bad.yaml").write_text(EVERY_PROBLEM, encoding="utf-8")
    invalid = salesflow_cli("template", "validate", "bad.yaml", cwd=tmp_path)
    assert invalid.returncode == 1
    assert "15 problem(s); nothing would be saved" in invalid.stdout
    assert "  actions[0].time.escalations[0].to: unknown role 'boss'" in invalid.stdout
    assert "Traceback" not in invalid.stdout + invalid.stderr


# A file that passed validation once and then froze every pipeline started on it: points
# beyond the events' 32-bit integers, clocks set centuries out, a reminder every second.
OUT_OF_BOUNDS = """
id: too-big
name: Too big
silence_reminder: {after_hours: 100000, to: [rep]}
actions:
  - key: appointment
    name: Customer appointment
    name_zh: 客户预约
    evidence:
      - {kind: photo, count: 51}
    answers:
      - {key: questions, count: 60, choices: [%(long_choice)s]}
    time:
      due_hours: 9000
      escalations: [{after_hours: 876000, to: regional_manager}]
      reminders: [{key: nag, every_hours: 0.001, to: [rep]}]
    points:
      completion: 3000000000
      overdue: -200000
      quality_bonus: [{key: big, points: 100001, when: on_time}]
      milestones: [{count: 5, per: month, points: 999999}]
    tickets:
      - {department: legal, kind: review, response_target_minutes: 600000}
  - key: plan
    name: Plan
    name_zh: 计划
    evidence:
      - {kind: a, count: 50}
      - {kind: b, count: 50}
      - {kind: c, count: 50}
    time:
      clock: business
      due_hours: 2001
      warning_hours: 2500
"""


def test_numbers_a_running_pipeline_cannot_carry_are_refused_with_their_paths():
    text = OUT_OF_BOUNDS % {"long_choice": "x" * 501}
    checked = check_template_text(text)

    assert not checked.ok
    found = {str(problem) for problem in checked.problems}
    expected = [
        ("silence_reminder.after_hours", "100000 h is more than 8760 (a year)"),
        ("actions[0].evidence[0].count", "51 is more than 50"),
        ("actions[0].answers[0].count", "60 is more than 50"),
        ("actions[0].answers[0].choices[0]", "is 501 characters long; at most 500"),
        ("actions[0].time.due_hours", "9000 h is more than 8760"),
        ("actions[0].time.escalations[0].after_hours", "876000 h is more than 8760"),
        ("actions[0].time.reminders[0].every_hours", "0.001 h is too often; at least 0.25 h"),
        ("actions[0].points.completion", "3000000000 points is beyond 100000"),
        ("actions[0].points.overdue", "-200000 points is beyond 100000"),
        ("actions[0].points.quality_bonus[0].points", "100001 points is beyond 100000"),
        ("actions[0].points.milestones[0].points", "999999 points is beyond 100000"),
        ("actions[0].tickets[0].response_target_minutes", "more than a year"),
        ("actions[1].evidence", "needs 150 files in all, but one completion presents at most 100"),
        ("actions[1].time.due_hours", "2001 working hours is more than 2000"),
        ("actions[1].time.warning_hours", "2500 working hours is more than 2000"),
    ]
    for path, words in expected:
        assert any(line.startswith(f"{path}: ") and words in line for line in found), (
            path,
            words,
            sorted(found),
        )


def test_a_template_with_more_than_a_hundred_actions_is_refused():
    actions = "".join(
        f"  - {{key: step_{n}, name: Step {n}, name_zh: 步骤{n}}}\n" for n in range(101)
    )
    checked = check_template_text(f"id: long\nname: Long\nactions:\n{actions}")
    assert [str(problem) for problem in checked.problems] == ["actions: 101 actions; at most 100"]


def test_validate_applies_the_size_limit_import_applies(tmp_path):
    padding = "# " + "x" * 1000 + "\n"
    text = "id: big\nname: Big\nactions:\n  - {key: a, name: A, name_zh: 甲}\n"
    text += padding * 1100
    checked = check_template_text(text)
    assert [str(problem) for problem in checked.problems] == [
        f"the file is {len(text.encode())} bytes; at most 1048576 (1 MiB)"
    ]

    (tmp_path / "big.yaml").write_text(text, encoding="utf-8")
    refused = salesflow_cli("template", "validate", "big.yaml", cwd=tmp_path)
    assert refused.returncode == 1
    assert "at most 1048576 (1 MiB)" in refused.stdout


@pytest.mark.parametrize("zone", ["localtime", "Factory", "posixrules", "posix/Asia/Shanghai"])
def test_a_calendar_zone_must_be_an_iana_zone(zone):
    checked = check_template_text(
        f"id: z\nname: Z\ncalendars:\n  - {{id: default, time_zone: {zone}}}\n"
        "actions:\n  - {key: a, name: A, name_zh: 甲}\n"
    )
    assert [str(problem) for problem in checked.problems] == [
        f"calendars[0].time_zone: unknown time zone {zone!r} (an IANA zone, e.g. Asia/Shanghai)"
    ]


def test_a_key_written_twice_is_listed_with_every_other_problem():
    checked = check_template_text(
        "id: twice\nid: again\nname: Twice\nbogus: 1\nactions:\n"
        "  - {key: a, name: A, name_zh: 甲, key: b}\n"
        "  - {key: Bad, name: B, name_zh: 乙}\n"
    )
    found = [str(problem) for problem in checked.problems]
    assert not checked.ok
    assert found[:2] == [
        "line 2, column 1: field 'id' is written twice in one mapping; "
        "the second would silently win",
        "line 6, column 35: field 'key' is written twice in one mapping; "
        "the second would silently win",
    ]
    assert any(line.startswith("actions[1].key: 'Bad' is not a valid key") for line in found)
    assert any(line.startswith("bogus: unknown field") for line in found)


def test_validate_cuts_a_long_action_list(tmp_path):
    from salesflow.cli.templates import action_path

    assert action_path(["a", "b"]) == "a -> b"
    keys = [f"step_{n}" for n in range(45)]
    assert action_path(keys).endswith("step_29 -> … and 15 more")

    actions = "".join(f"  - {{key: {key}, name: S, name_zh: 步}}\n" for key in keys)
    (tmp_path / "long.yaml").write_text(f"id: long\nname: Long\nactions:\n{actions}")
    valid = salesflow_cli("template", "validate", "long.yaml", cwd=tmp_path)
    assert valid.returncode == 0, valid.stderr
    assert "45 actions: step_0 -> step_1 -> " in valid.stdout
    assert "step_30" not in valid.stdout and "… and 15 more" in valid.stdout
