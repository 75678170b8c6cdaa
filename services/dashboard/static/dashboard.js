// salesflow dashboard: draws the analytics figures as inline SVG and tables, in English or
// Chinese. Data comes from the dashboard's JSON endpoints (services/dashboard/api.py) or,
// in a snapshot file, from the JSON embedded in the page (services/dashboard/snapshot.py).
(function () {
  "use strict";

  // ---- labels ------------------------------------------------------------------------------

  const I18N = {
    en: {
      title: "Sales action dashboard",
      toggle: "中文",
      "filter.period": "Period", "filter.from": "From", "filter.to": "To",
      "filter.region": "Region", "filter.team": "Team", "filter.rep": "Rep",
      all: "All", allRegions: "All regions", custom: "Custom",
      "period.week": "Latest week", "period.4w": "Last 4 weeks", "period.quarter": "Last 13 weeks",
      "period.year": "Last 52 weeks", "period.all": "All data",
      viewer: "Viewing as {id} ({role}, regions: {regions})",
      span: "Data from {first} to {last} · {instances} action instances · days in {zone}",
      noData: "No action has been recorded in your view yet.",
      snapshot: "Snapshot written {at}: figures as they were then. Views that were not captured show a note; run `salesflow up` for the live dashboard.",
      notCaptured: "Not in this snapshot.",
      loading: "Loading…",
      "heatmap.title": "Completion-rate heatmap",
      "heatmap.formula": "Rate = on time ÷ due per action type (due: completed, or past its deadline uncompleted). Click a region for its reps, a rep for their pipelines.",
      "heatmap.byRegion": "by region", "heatmap.byRep": "by rep",
      "legend.red": "below {threshold} (red)",
      "legend.ok": "at or above {threshold}",
      "legend.overall": "overall {rate} (target {target})",
      "heatmap.cell": "{group} · {action}: {on_time} of {due} on time ({rate})",
      "bottlenecks.title": "Top bottlenecks",
      "bottlenecks.rank.time_open": "by average time open",
      "bottlenecks.rank.stalled": "by number stalled",
      "bottlenecks.span": "{from} – {to}: every action open at some moment; stalled = past its deadline or open over {hours} h.",
      "bottlenecks.line": "{action} averages {avg} days (90% within {p90} days)",
      "bottlenecks.detail": "{stalled} of {instances} stalled · {open} still open",
      "bottlenecks.none": "No action was open in this period.",
      "conversion.title": "Conversion per action",
      "conversion.formula": "Share of completed actions whose pipeline reached {contract} within {window} days, against the reference rate (target {factor} × reference).",
      "col.action": "Action", "col.completed": "Completed", "col.converted": "Converted",
      "col.rate": "Rate", "col.reference": "Reference", "col.flag": "Flag", "col.maturing": "Maturing",
      "flag.below_reference": "below reference", "flag.at_reference": "at reference",
      "flag.above_target": "above target", "flag.maturing": "window not passed",
      "flag.no_reference": "no reference",
      "quality.title": "Action quality per rep",
      "quality.formula": "Score 0–100 = weighted evidence {e}, answers {a}, timeliness {t}, customer feedback {c}; target {target}.",
      "col.rep": "Rep", "col.region": "Region", "col.instances": "Actions", "col.score": "Score",
      "col.evidence": "Evidence", "col.answers": "Answers", "col.timeliness": "Timeliness",
      "col.feedback": "Feedback",
      belowTarget: "below target",
      "growth.title": "Growth path",
      "growth.metric.completion_rate": "Completion rate", "growth.metric.quality": "Quality",
      "growth.metric.conversion_rate": "Conversion",
      "growth.weeks": "{n} weeks",
      "growth.note": "{rep} (solid) against the pooled top performers of team {team}: {top} (dashed), weekly.",
      "growth.noTop": "{rep} (solid); team {team} has no other reps to compare with.",
      "growth.noRep": "Pick a rep.",
      "health.title": "Health self-check",
      "health.verdict": "{passed} of 10 pass ({needed} needed): {word}",
      healthy: "healthy", unhealthy: "not healthy yet",
      "health.unmeasurable": "unmeasurable",
      "drill.pipelines": "Pipelines of {rep}",
      "drill.timeline": "Pipeline {id}: action timeline",
      "col.id": "Opportunity", "col.account": "Account", "col.outcome": "Outcome",
      "col.current": "Current action", "col.since": "Since", "col.overdue": "Overdue",
      "col.status": "Status", "col.started": "Started", "col.completedAt": "Completed",
      "col.due": "Due", "col.escalations": "Escalations",
      "outcome.open": "open", "outcome.won": "won", "outcome.lost": "lost",
      "status.done": "done", "status.open": "open", "status.pending": "pending",
      "status.skipped": "skipped", "status.running": "running", "status.paused": "paused",
      yes: "yes", no: "no",
      "timeline.meta": "Rep {rep} · manager {manager} · {region} · account {account} · {outcome}",
      "timeline.tickets": "Tickets",
      truncated: "Only the first {n} are listed.",
      nothing: "Nothing to show for these filters.",
      error: "{status} {code}: {message}",
      footer: "Formulas: README.md, section Analytics › The figures. This page reads the analytics and pipeline services as the viewer above; it is not a login.",
    },
    zh: {
      title: "销售动作数据看板",
      toggle: "English",
      "filter.period": "期间", "filter.from": "开始", "filter.to": "结束",
      "filter.region": "区域", "filter.team": "团队", "filter.rep": "销售",
      all: "全部", allRegions: "全部区域", custom: "自定义",
      "period.week": "最近一周", "period.4w": "最近 4 周", "period.quarter": "最近 13 周",
      "period.year": "最近 52 周", "period.all": "全部数据",
      viewer: "当前身份 {id}（{role}，区域：{regions}）",
      span: "数据 {first} 至 {last} · 共 {instances} 个动作实例 · 按 {zone} 计日",
      noData: "您可见的范围内还没有任何动作记录。",
      snapshot: "快照生成于 {at}：数字为当时的情况。未收录的视图会显示提示；运行 `salesflow up` 查看实时看板。",
      notCaptured: "此快照未收录该视图。",
      loading: "加载中…",
      "heatmap.title": "动作完成率热力图",
      "heatmap.formula": "完成率 = 按时完成 ÷ 应完成（应完成：已完成，或已超期未完成）。点击区域查看销售，点击销售查看其动作流。",
      "heatmap.byRegion": "按区域", "heatmap.byRep": "按销售",
      "legend.red": "低于 {threshold}（红色）",
      "legend.ok": "不低于 {threshold}",
      "legend.overall": "总体 {rate}（目标 {target}）",
      "heatmap.cell": "{group} · {action}：{due} 个中 {on_time} 个按时（{rate}）",
      "bottlenecks.title": "卡点动作 Top 3",
      "bottlenecks.rank.time_open": "按平均耗时",
      "bottlenecks.rank.stalled": "按卡住数量",
      "bottlenecks.span": "{from} 至 {to}：期间内任一时刻处于进行中的动作；卡住 = 超期或进行超过 {hours} 小时。",
      "bottlenecks.line": "{action} 平均 {avg} 天（90% 在 {p90} 天内）",
      "bottlenecks.detail": "{instances} 个中 {stalled} 个卡住 · {open} 个仍在进行",
      "bottlenecks.none": "此期间没有进行中的动作。",
      "conversion.title": "各动作转化率",
      "conversion.formula": "完成动作后 {window} 天内进入{contract}的商机占比，对比参考转化率（目标 = {factor} × 参考值）。",
      "col.action": "动作", "col.completed": "已完成", "col.converted": "已转化",
      "col.rate": "转化率", "col.reference": "参考值", "col.flag": "标记", "col.maturing": "观察期内",
      "flag.below_reference": "低于参考", "flag.at_reference": "达到参考",
      "flag.above_target": "超过目标", "flag.maturing": "观察期未满",
      "flag.no_reference": "无参考值",
      "quality.title": "销售动作质量分",
      "quality.formula": "质量分 0–100 = 加权：证据完整度 {e}、答案完整度 {a}、及时性 {t}、客户反馈 {c}；目标 {target}。",
      "col.rep": "销售", "col.region": "区域", "col.instances": "动作数", "col.score": "质量分",
      "col.evidence": "证据", "col.answers": "答案", "col.timeliness": "及时性",
      "col.feedback": "客户反馈",
      belowTarget: "低于目标",
      "growth.title": "成长路径",
      "growth.metric.completion_rate": "完成率", "growth.metric.quality": "质量分",
      "growth.metric.conversion_rate": "转化率",
      "growth.weeks": "{n} 周",
      "growth.note": "{rep}（实线）对比团队 {team} 的标杆销售 {top}（虚线，合并计算），按周。",
      "growth.noTop": "{rep}（实线）；团队 {team} 没有其他销售可对比。",
      "growth.noRep": "请选择一位销售。",
      "health.title": "健康度自检",
      "health.verdict": "10 项中 {passed} 项通过（需 {needed} 项）：{word}",
      healthy: "健康", unhealthy: "尚未达标",
      "health.unmeasurable": "无法衡量",
      "drill.pipelines": "{rep} 的动作流",
      "drill.timeline": "动作流 {id}：动作时间线",
      "col.id": "商机", "col.account": "客户", "col.outcome": "结果",
      "col.current": "当前动作", "col.since": "开始于", "col.overdue": "超期",
      "col.status": "状态", "col.started": "开始", "col.completedAt": "完成",
      "col.due": "截止", "col.escalations": "升级",
      "outcome.open": "进行中", "outcome.won": "赢单", "outcome.lost": "丢单",
      "status.done": "已完成", "status.open": "进行中", "status.pending": "未开始",
      "status.skipped": "已跳过", "status.running": "进行中", "status.paused": "已暂停",
      yes: "是", no: "否",
      "timeline.meta": "销售 {rep} · 经理 {manager} · {region} · 客户 {account} · {outcome}",
      "timeline.tickets": "工单",
      truncated: "仅列出前 {n} 条。",
      nothing: "当前筛选条件下没有数据。",
      error: "{status} {code}：{message}",
      footer: "计算公式见 README.md 的 Analytics › The figures 一节。本页以上方身份读取分析与动作流服务，并非登录认证。",
    },
  };
  const ROLE_ZH = {
    rep: "销售", manager: "区域经理", director: "销售总监", hr: "人事", admin: "管理员",
    legal: "法务", logistics: "物流", sales_ops: "销售运营",
  };
  // The self-check's items in Chinese, by key (the service answers in English).
  const HEALTH_ZH = {
    visit_photos: "拜访记录附有现场照片",
    last_objection_outcomes: "销售能看到自己最近 3 次异议处理的结果",
    drill_down: "经理无需导出 Excel 即可逐级下钻",
    new_rep_full_flow: "新销售 3 天内走完一个完整动作流",
    points_feed_bonus: "积分进入季度奖金",
    promise_complaints: "承诺类投诉低于 5%",
    daily_report_minutes: "日报用时不超过 3 分钟",
    reps_know_top_actions: "销售知道自己最需改进的 3 个动作",
    cross_department_response: "跨部门响应在 2 小时内",
    handover: "离职交接完整",
  };
  const PERIODS = ["week", "4w", "quarter", "year", "all"];
  const BOTTLENECK_PERIODS = ["week", "4w", "quarter"];
  const METRICS = ["completion_rate", "quality", "conversion_rate"];
  const SVG = "http://www.w3.org/2000/svg";

  const params = new URLSearchParams(window.location.search);
  const snapshot = readSnapshot();
  const state = {
    lang: params.get("lang") === "zh" ? "zh" : "en",
    overview: null,
    filters: { period: "", from: "", to: "", region: "", team: "", rep: "" },
    pipeline: "",
    bottleneckPeriod: "",
    bottleneckRank: "time_open",
    growthRep: "",
    growthMetric: "completion_rate",
    growthWeeks: 12,
    data: {},
    errors: {},
  };

  // ---- small helpers -----------------------------------------------------------------------

  function t(key, vars) {
    let text = I18N[state.lang][key];
    if (text === undefined) text = I18N.en[key] !== undefined ? I18N.en[key] : key;
    return text.replace(/\{(\w+)\}/g, (_, name) =>
      vars && vars[name] !== undefined && vars[name] !== null ? String(vars[name]) : "");
  }

  function actionName(key) {
    const names = state.overview && state.overview.actions[key];
    if (names) return names[state.lang] || names.en;
    const fromTimeline = state.data.pipeline && state.data.pipeline.actions &&
      state.data.pipeline.actions.find((a) => a.key === key);
    if (fromTimeline) return state.lang === "zh" ? fromTimeline.name_zh || fromTimeline.name : fromTimeline.name;
    return key.replace(/_/g, " ");
  }

  function pct(value, digits) {
    if (value === null || value === undefined) return "–";
    return (value * 100).toFixed(digits === undefined ? 0 : digits) + "%";
  }

  function num(value, digits) {
    return Number(value).toFixed(digits);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(SVG, tag);
    setAttrs(node, attrs);
    append(node, children);
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "text") node.textContent = value;
      else if (name === "onclick") node.addEventListener("click", value);
      // Through the CSSOM: the page's Content-Security-Policy refuses style attributes.
      else if (name === "style") node.style.cssText = value;
      else if (name === "class" && !(node instanceof SVGElement)) node.className = value;
      else node.setAttribute(name, value === true ? "" : String(value));
    }
  }

  function append(node, children) {
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function $(id) {
    return document.getElementById(id);
  }

  function formatTime(iso) {
    if (!iso) return "–";
    const zone = (state.overview && state.overview.timezone) || undefined;
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23",
    }).formatToParts(new Date(iso));
    const part = (type) => (parts.find((p) => p.type === type) || {}).value;
    return `${part("year")}-${part("month")}-${part("day")} ${part("hour")}:${part("minute")}`;
  }

  // ---- data --------------------------------------------------------------------------------

  function readSnapshot() {
    const node = document.getElementById("snapshot-data");
    return node ? JSON.parse(node.textContent) : null;
  }

  // The key a response is filed under in a snapshot: the path and its non-empty parameters
  // sorted by name, unencoded (services/dashboard/snapshot.py builds the same).
  function requestKey(path, query) {
    const pairs = Object.entries(query || {})
      .filter(([, value]) => value !== "" && value !== null && value !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, value]) => `${name}=${value}`);
    return pairs.length ? `${path}?${pairs.join("&")}` : path;
  }

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  async function api(path, query) {
    if (snapshot) {
      const key = requestKey(path, query);
      if (key in snapshot.responses) return snapshot.responses[key];
      throw new ApiError("", "NOT_CAPTURED", t("notCaptured"));
    }
    const search = new URLSearchParams();
    for (const [name, value] of Object.entries(query || {})) {
      if (value !== "" && value !== null && value !== undefined) search.set(name, value);
    }
    // The viewer named in the page's own address goes with every request (viewer.py).
    for (const name of ["as", "role", "regions"]) {
      if (params.has(name)) search.set(name, params.get(name));
    }
    const response = await fetch(`${path}?${search}`, { headers: { Accept: "application/json" } });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {
      body = null;
    }
    if (!response.ok) {
      const error = (body && body.error) || {};
      throw new ApiError(response.status, error.code || response.statusText, error.message || "");
    }
    return body;
  }

  function filterQuery() {
    const f = state.filters;
    return { from: f.from, to: f.to, region: f.region, team: f.team, rep: f.rep };
  }

  function showError(container, error) {
    clear(container);
    if (error && error.code === "NOT_CAPTURED") {
      container.appendChild(el("p", { class: "empty", text: error.message }));
      return;
    }
    const text = error instanceof ApiError
      ? t("error", { status: error.status, code: error.code, message: error.message })
      : String(error);
    container.appendChild(el("p", { class: "error", role: "alert", text }));
  }

  // ---- loading -----------------------------------------------------------------------------

  async function start() {
    if (snapshot) {
      const banner = $("banner");
      banner.hidden = false;
      banner.dataset.kind = "snapshot";
      state.snapshotAt = snapshot.written_at;
    }
    bindControls();
    applyLanguage();
    try {
      state.overview = await api("/api/overview", {});
    } catch (error) {
      showError($("heatmap"), error);
      document.body.dataset.state = "error";
      return;
    }
    const o = state.overview;
    choosePeriod(o.default_period);
    state.bottleneckPeriod = o.default_bottleneck_period;
    state.growthRep = o.reps.length ? o.reps[0].id : "";
    fillFilterLists();
    await reload();
  }

  function choosePeriod(name) {
    const preset = state.overview.periods[name];
    state.filters.period = name;
    if (preset) {
      state.filters.from = preset.from;
      state.filters.to = preset.to;
    }
  }

  async function reload() {
    document.body.dataset.state = "loading";
    syncFilterControls();
    renderHeader();
    const jobs = [loadHeatmap(), loadBottlenecks(), loadConversion(), loadQuality(), loadGrowth(),
      loadHealth(), loadDrill()];
    await Promise.all(jobs);
    document.body.dataset.state = "ready";
  }

  function heatmapByRep() {
    const f = state.filters;
    return Boolean(f.region || f.team || f.rep);
  }

  async function load(name, container, request, render) {
    try {
      state.data[name] = await request();
      state.errors[name] = null;
    } catch (error) {
      state.data[name] = null;
      state.errors[name] = error;
    }
    draw(name, container, render);
  }

  function draw(name, container, render) {
    if (state.errors[name]) showError(container, state.errors[name]);
    else if (state.data[name]) render(state.data[name]);
  }

  const loadHeatmap = () => load("heatmap", $("heatmap"),
    () => api("/api/heatmap", { ...filterQuery(), group: heatmapByRep() ? "rep" : "region" }),
    renderHeatmap);

  function bottleneckQuery() {
    const preset = state.overview.periods[state.bottleneckPeriod];
    const f = state.filters;
    return {
      from: preset.from, to: preset.to, region: f.region, team: f.team, rep: f.rep,
      rank: state.bottleneckRank,
    };
  }

  const loadBottlenecks = () => load("bottlenecks", $("bottlenecks"),
    () => api("/api/bottlenecks", bottleneckQuery()), renderBottlenecks);
  const loadConversion = () => load("conversion", $("conversion-chart"),
    () => api("/api/conversion", filterQuery()), renderConversion);
  const loadQuality = () => load("quality", $("quality-chart"),
    () => api("/api/quality", filterQuery()), renderQuality);
  const loadHealth = () => load("health", $("health"),
    () => api("/api/health", filterQuery()), renderHealth);

  async function loadGrowth() {
    const rep = state.filters.rep || state.growthRep;
    if (!rep) {
      state.data.growth = null;
      clear($("growth-chart")).appendChild(el("p", { class: "empty", text: t("growth.noRep") }));
      return;
    }
    await load("growth", $("growth-chart"),
      () => api("/api/growth", { rep, to: state.filters.to, weeks: state.growthWeeks }),
      renderGrowth);
  }

  async function loadDrill() {
    const panel = $("drill-panel");
    if (!state.filters.rep) {
      panel.hidden = true;
      state.data.pipelines = state.data.pipeline = null;
      return;
    }
    panel.hidden = false;
    await load("pipelines", $("drill"), () => api("/api/pipelines", { rep: state.filters.rep }),
      () => renderDrill());
    if (state.pipeline) {
      await load("pipeline", $("drill"),
        () => api(`/api/pipelines/${encodeURIComponent(state.pipeline)}`, {}), () => renderDrill());
    } else {
      state.data.pipeline = null;
    }
    renderDrill();
  }

  // ---- controls ----------------------------------------------------------------------------

  function bindControls() {
    $("lang-toggle").addEventListener("click", () => {
      state.lang = state.lang === "en" ? "zh" : "en";
      applyLanguage();
      renderAll();
    });
    $("f-period").addEventListener("change", (event) => {
      if (event.target.value !== "custom") choosePeriod(event.target.value);
      else state.filters.period = "custom";
      reload();
    });
    for (const name of ["from", "to"]) {
      $(`f-${name}`).addEventListener("change", (event) => {
        if (!event.target.value) return;
        state.filters[name] = event.target.value;
        state.filters.period = "custom";
        reload();
      });
    }
    for (const name of ["region", "team", "rep"]) {
      $(`f-${name}`).addEventListener("change", (event) => {
        state.filters[name] = event.target.value;
        if (name !== "rep") state.filters.rep = "";
        state.pipeline = "";
        reload();
      });
    }
    $("b-rank").addEventListener("change", (event) => {
      state.bottleneckRank = event.target.value;
      loadBottlenecks();
    });
    $("g-rep").addEventListener("change", (event) => {
      state.growthRep = event.target.value;
      loadGrowth();
    });
    $("g-metric").addEventListener("change", (event) => {
      state.growthMetric = event.target.value;
      draw("growth", $("growth-chart"), renderGrowth);
    });
    $("g-weeks").addEventListener("change", (event) => {
      state.growthWeeks = Number(event.target.value);
      loadGrowth();
    });
  }

  function drillTo(level, value) {
    const f = state.filters;
    if (level === "top") {
      f.region = f.team = f.rep = "";
      state.pipeline = "";
    } else if (level === "region") {
      f.region = value;
      f.rep = "";
      state.pipeline = "";
    } else if (level === "rep") {
      const rep = state.overview.reps.find((r) => r.id === value);
      if (rep && !f.region) f.region = rep.region;
      f.rep = value;
      state.pipeline = "";
    } else if (level === "pipeline") {
      state.pipeline = value;
      load("pipeline", $("drill"),
        () => api(`/api/pipelines/${encodeURIComponent(value)}`, {}), () => renderDrill())
        .then(() => {
          renderCrumbs();
          $("drill-panel").scrollIntoView({ block: "start" });
        });
      return;
    }
    reload();
  }

  function option(value, label, selected) {
    return el("option", { value, text: label, selected: value === selected });
  }

  function fillFilterLists() {
    renderFilterOptions();
  }

  function renderFilterOptions() {
    const o = state.overview;
    if (!o) return;
    const f = state.filters;
    const period = clear($("f-period"));
    for (const name of PERIODS) period.appendChild(option(name, t(`period.${name}`), f.period));
    period.appendChild(option("custom", t("custom"), f.period));

    const region = clear($("f-region"));
    region.appendChild(option("", t("allRegions"), f.region));
    for (const name of o.regions) region.appendChild(option(name, name, f.region));

    const team = clear($("f-team"));
    team.appendChild(option("", t("all"), f.team));
    for (const name of o.teams) team.appendChild(option(name, name, f.team));

    const rep = clear($("f-rep"));
    rep.appendChild(option("", t("all"), f.rep));
    for (const r of o.reps) {
      if ((f.region && r.region !== f.region) || (f.team && r.team !== f.team)) continue;
      rep.appendChild(option(r.id, r.id, f.rep));
    }

    const growthRep = clear($("g-rep"));
    for (const r of o.reps) growthRep.appendChild(option(r.id, r.id, f.rep || state.growthRep));
    growthRep.disabled = Boolean(f.rep);
    const metric = clear($("g-metric"));
    for (const name of METRICS) metric.appendChild(option(name, t(`growth.metric.${name}`), state.growthMetric));
    const weeks = clear($("g-weeks"));
    for (const n of [12, 26, 52]) weeks.appendChild(option(String(n), t("growth.weeks", { n }), String(state.growthWeeks)));
    const rank = clear($("b-rank"));
    for (const name of ["time_open", "stalled"]) rank.appendChild(option(name, t(`bottlenecks.rank.${name}`), state.bottleneckRank));

    const seg = clear($("b-period"));
    for (const name of BOTTLENECK_PERIODS) {
      seg.appendChild(el("button", {
        type: "button", class: name === state.bottleneckPeriod ? "on" : "", "data-period": name,
        text: t(`period.${name}`),
        onclick: () => {
          state.bottleneckPeriod = name;
          renderFilterOptions();
          loadBottlenecks();
        },
      }));
    }
  }

  function syncFilterControls() {
    renderFilterOptions();
    $("f-from").value = state.filters.from;
    $("f-to").value = state.filters.to;
  }

  // ---- rendering ---------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = state.lang === "zh" ? "zh-CN" : "en";
    document.title = `salesflow · ${t("title")}`;
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    $("lang-toggle").textContent = t("toggle");
    if (snapshot) $("banner").textContent = t("snapshot", { at: formatTime(snapshot.written_at) });
  }

  function renderAll() {
    renderHeader();
    renderFilterOptions();
    draw("heatmap", $("heatmap"), renderHeatmap);
    draw("bottlenecks", $("bottlenecks"), renderBottlenecks);
    draw("conversion", $("conversion-chart"), renderConversion);
    draw("quality", $("quality-chart"), renderQuality);
    draw("growth", $("growth-chart"), renderGrowth);
    draw("health", $("health"), renderHealth);
    if (state.filters.rep) renderDrill();
  }

  function renderHeader() {
    const o = state.overview;
    if (!o) return;
    const v = o.viewer;
    const role = state.lang === "zh" ? ROLE_ZH[v.role] || v.role : v.role;
    $("viewer").textContent = t("viewer", { id: v.id, role, regions: v.regions.join(", ") });
    $("data-span").textContent = o.data
      ? t("span", { first: o.data.first_day, last: o.data.last_day, instances: o.data.instances, zone: o.timezone })
      : t("noData");
    renderCrumbs();
  }

  function renderCrumbs() {
    const nav = clear($("crumbs"));
    const f = state.filters;
    const parts = [["top", "", t("allRegions")]];
    if (f.region) parts.push(["region", f.region, f.region]);
    if (f.rep) parts.push(["rep", f.rep, f.rep]);
    if (state.pipeline) parts.push(["pipeline", state.pipeline, state.pipeline]);
    parts.forEach(([level, value, label], index) => {
      if (index) nav.appendChild(el("span", { class: "sep", text: "›" }));
      nav.appendChild(el("a", {
        "data-level": level, text: label, onclick: () => drillTo(level, value),
      }));
    });
  }

  function renderHeatmap(data) {
    const box = clear($("heatmap"));
    if (!data.cells.length) {
      box.appendChild(el("p", { class: "empty", text: t("nothing") }));
      renderLegend(data);
      return;
    }
    const byRep = data.group_by === "rep";
    const cellW = byRep ? 96 : 132;
    const cellH = 34;
    const left = 190;
    const top = byRep ? 74 : 34;
    // Rep names stand at an angle over their columns and may reach past the last one.
    const width = left + cellW * data.groups.length + (byRep ? 130 : 8);
    const height = top + cellH * data.actions.length + 6;
    const chart = svg("svg", { width, height, viewBox: `0 0 ${width} ${height}`, role: "img", id: "heatmap-svg" });
    const cells = new Map(data.cells.map((c) => [`${c.action}\u0000${c.group}`, c]));

    data.groups.forEach((group, col) => {
      const x = left + col * cellW;
      const head = svg("g", {
        class: "clickable-label group-head", "data-group": group, tabindex: 0,
        onclick: () => drillTo(byRep ? "rep" : "region", group),
      });
      head.appendChild(svg("rect", { x, y: 0, width: cellW, height: top - 2, fill: "transparent" }));
      const label = svg("text", {
        x: x + cellW / 2, y: top - 10, "text-anchor": byRep ? "start" : "middle",
        "font-size": 13, "font-weight": 600, fill: "#2d6cdf",
        transform: byRep ? `rotate(-28 ${x + cellW / 2} ${top - 10})` : null,
      }, group);
      head.appendChild(label);
      chart.appendChild(head);
    });

    data.actions.forEach((action, row) => {
      const y = top + row * cellH;
      chart.appendChild(svg("text", {
        x: left - 10, y: y + cellH / 2 + 4, "text-anchor": "end", "font-size": 13, fill: "#1f2933",
        class: "action-label", "data-action": action,
      }, actionName(action)));
      data.groups.forEach((group, col) => {
        const x = left + col * cellW;
        const cell = cells.get(`${action}\u0000${group}`);
        if (!cell) {
          chart.appendChild(svg("rect", {
            x: x + 1, y: y + 1, width: cellW - 2, height: cellH - 2, fill: "#f0f4f8", class: "cell-empty",
          }));
          return;
        }
        const fill = cell.red ? redShade(cell.rate, data.red_below) : greenShade(cell.rate, data.red_below);
        const g = svg("g", {
          class: "cell clickable-label", "data-action": action, "data-group": group,
          "data-rate": cell.rate.toFixed(4), "data-red": String(cell.red),
          onclick: () => drillTo(byRep ? "rep" : "region", group),
        });
        g.appendChild(svg("rect", { x: x + 1, y: y + 1, width: cellW - 2, height: cellH - 2, rx: 3, fill }));
        g.appendChild(svg("text", {
          x: x + cellW / 2, y: y + cellH / 2 + 1, "text-anchor": "middle", "font-size": 13,
          "font-weight": 600, fill: cell.red || cell.rate > 0.95 ? "#ffffff" : "#102a43",
        }, pct(cell.rate)));
        g.appendChild(svg("text", {
          x: x + cellW / 2, y: y + cellH / 2 + 13, "text-anchor": "middle", "font-size": 9,
          fill: cell.red || cell.rate > 0.95 ? "#ffffff" : "#486581",
        }, `${cell.on_time}/${cell.due}`));
        g.appendChild(svg("title", {}, t("heatmap.cell", {
          group, action: actionName(action), on_time: cell.on_time, due: cell.due, rate: pct(cell.rate, 1),
        })));
        chart.appendChild(g);
      });
    });
    box.appendChild(chart);
    renderLegend(data);
  }

  function greenShade(rate, threshold) {
    const share = Math.max(0, Math.min(1, (rate - threshold) / Math.max(0.0001, 1 - threshold)));
    const light = [199, 234, 212];
    const dark = [47, 143, 91];
    return rgb(light.map((value, i) => value + (dark[i] - value) * share));
  }

  function redShade(rate, threshold) {
    const share = Math.max(0, Math.min(1, rate / Math.max(0.0001, threshold)));
    const deep = [168, 35, 35];
    const light = [229, 96, 96];
    return rgb(deep.map((value, i) => value + (light[i] - value) * share));
  }

  function rgb(values) {
    return `rgb(${values.map((v) => Math.round(v)).join(",")})`;
  }

  function renderLegend(data) {
    const legend = clear($("heatmap-legend"));
    const threshold = pct(data.red_below);
    legend.appendChild(el("span", { "data-threshold": data.red_below },
      el("span", { class: "swatch", style: `background:${redShade(0.4, data.red_below)}` }),
      t("legend.red", { threshold })));
    legend.appendChild(el("span", {},
      el("span", { class: "swatch", style: `background:${greenShade(0.95, data.red_below)}` }),
      t("legend.ok", { threshold })));
    legend.appendChild(el("span", {
      text: t("legend.overall", { rate: pct(data.overall_rate, 1), target: pct(data.target_rate) }),
    }));
    legend.appendChild(el("span", { text: data.group_by === "rep" ? t("heatmap.byRep") : t("heatmap.byRegion") }));
  }

  function renderBottlenecks(data) {
    const list = clear($("bottlenecks"));
    const period = data.filters.period;
    $("b-span").textContent = t("bottlenecks.span", { from: period.from, to: period.to, hours: num(data.stall_hours, 0) });
    if (!data.items.length) {
      list.appendChild(el("li", { class: "empty", text: t("bottlenecks.none") }));
      return;
    }
    const longest = Math.max(...data.items.map((item) => item.p90_days), 0.0001);
    for (const item of data.items) {
      const bar = svg("svg", { width: 300, height: 16, class: "bar" },
        svg("rect", { x: 0, y: 3, width: 300, height: 10, fill: "#f0f4f8", rx: 2 }),
        svg("rect", { x: 0, y: 3, width: Math.max(2, 300 * item.average_days / longest), height: 10, fill: "#d64545", rx: 2 }),
        svg("line", { x1: 300 * item.p90_days / longest, x2: 300 * item.p90_days / longest, y1: 0, y2: 16, stroke: "#102a43", "stroke-width": 2 }));
      list.appendChild(el("li", { class: "bottleneck", "data-action": item.action, "data-average-days": item.average_days.toFixed(2) },
        el("div", { class: "head" },
          el("span", { class: "rank", text: String(item.rank) }),
          t("bottlenecks.line", { action: actionName(item.action), avg: num(item.average_days, 1), p90: num(item.p90_days, 1) })),
        bar,
        el("div", { class: "line", text: t("bottlenecks.detail", { stalled: item.stalled, instances: item.instances, open: item.open }) })));
    }
  }

  function renderConversion(data) {
    $("conversion-formula").textContent = t("conversion.formula", {
      contract: actionName(data.contract_action), window: data.window_days, factor: num(data.target_factor, 1),
    });
    const box = clear($("conversion-chart"));
    const table = clear($("conversion-table"));
    if (!data.rows.length) {
      box.appendChild(el("p", { class: "empty", text: t("nothing") }));
      return;
    }
    const width = 460;
    const left = 170;
    const rowH = 26;
    const scale = Math.max(1, ...data.rows.map((r) => Math.max(r.rate, r.target || 0)));
    const plot = width - left - 40;
    const chart = svg("svg", { width, height: rowH * data.rows.length + 8, role: "img" });
    data.rows.forEach((row, index) => {
      const y = index * rowH + 4;
      const colour = { below_reference: "#d64545", at_reference: "#c98b16", above_target: "#2f8f5b" }[row.flag] || "#9aa5b1";
      chart.appendChild(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", "font-size": 12 }, actionName(row.action)));
      chart.appendChild(svg("rect", { x: left, y: y + 4, width: plot, height: 14, fill: "#f0f4f8", rx: 2 }));
      chart.appendChild(svg("rect", { x: left, y: y + 4, width: Math.max(1, plot * row.rate / scale), height: 14, fill: colour, rx: 2 }));
      if (row.reference) {
        const rx = left + plot * row.reference / scale;
        chart.appendChild(svg("line", { x1: rx, x2: rx, y1: y, y2: y + 22, stroke: "#102a43", "stroke-width": 2 }));
      }
      chart.appendChild(svg("text", { x: left + plot + 4, y: y + 15, "font-size": 11 }, pct(row.rate)));
    });
    box.appendChild(chart);

    table.appendChild(el("thead", {}, el("tr", {},
      ["col.action", "col.completed", "col.converted", "col.rate", "col.reference", "col.maturing", "col.flag"]
        .map((key, i) => el("th", { class: i && i < 6 ? "num" : "", text: t(key) })))));
    const body = el("tbody");
    for (const row of data.rows) {
      body.appendChild(el("tr", { "data-action": row.action, "data-flag": row.flag },
        el("td", { text: actionName(row.action) }),
        el("td", { class: "num", text: String(row.completed) }),
        el("td", { class: "num", text: String(row.converted) }),
        el("td", { class: "num", text: pct(row.rate, 1) }),
        el("td", { class: "num", text: row.reference ? pct(row.reference) : "–" }),
        el("td", { class: "num", text: String(row.maturing) }),
        el("td", {}, el("span", { class: `flag ${row.flag}`, text: t(`flag.${row.flag}`) }))));
    }
    table.appendChild(body);
  }

  function renderQuality(data) {
    const w = data.weights;
    $("quality-formula").textContent = t("quality.formula", {
      e: num(w.evidence, 0), a: num(w.answers, 0), t: num(w.timeliness, 0), c: num(w.feedback, 0), target: num(data.target, 0),
    });
    const box = clear($("quality-chart"));
    if (!data.reps.length) {
      box.appendChild(el("p", { class: "empty", text: t("nothing") }));
      return;
    }
    const reps = [...data.reps].sort((a, b) => b.score - a.score);
    const width = 460;
    const left = 150;
    const plot = width - left - 40;
    const rowH = 22;
    const chart = svg("svg", { width, height: rowH * reps.length + 24, role: "img", id: "quality-svg" });
    reps.forEach((rep, index) => {
      const y = index * rowH + 4;
      chart.appendChild(svg("text", { x: left - 8, y: y + 14, "text-anchor": "end", "font-size": 12 }, rep.rep));
      chart.appendChild(svg("rect", {
        x: left, y: y + 3, width: Math.max(1, plot * rep.score / 100), height: 14, rx: 2,
        fill: rep.below_target ? "#d64545" : "#2f8f5b", class: "quality-bar", "data-rep": rep.rep,
        "data-below": String(rep.below_target),
      }, svg("title", {}, `${rep.rep}: ${num(rep.score, 1)}`)));
      chart.appendChild(svg("text", { x: left + plot * rep.score / 100 + 4, y: y + 14, "font-size": 11 }, num(rep.score, 1)));
    });
    const tx = left + plot * data.target / 100;
    chart.appendChild(svg("line", { x1: tx, x2: tx, y1: 0, y2: rowH * reps.length + 6, stroke: "#102a43", "stroke-dasharray": "4 3" }));
    chart.appendChild(svg("text", { x: tx, y: rowH * reps.length + 20, "text-anchor": "middle", "font-size": 11 }, `${num(data.target, 0)}`));
    box.appendChild(chart);

    const table = el("table", { class: "table", id: "quality-table" });
    table.appendChild(el("thead", {}, el("tr", {},
      ["col.rep", "col.region", "col.instances", "col.score", "col.evidence", "col.answers", "col.timeliness", "col.feedback"]
        .map((key, i) => el("th", { class: i > 1 ? "num" : "", text: t(key) })))));
    const body = el("tbody");
    for (const rep of reps) {
      const c = rep.components;
      body.appendChild(el("tr", { "data-rep": rep.rep, class: "clickable", onclick: () => drillTo("rep", rep.rep) },
        el("td", { text: rep.rep }),
        el("td", { text: rep.region }),
        el("td", { class: "num", text: String(rep.instances) }),
        el("td", { class: "num" }, el("span", { class: rep.below_target ? "flag red" : "", text: num(rep.score, 1) })),
        el("td", { class: "num", text: pct(c.evidence) }),
        el("td", { class: "num", text: pct(c.answers) }),
        el("td", { class: "num", text: pct(c.timeliness) }),
        el("td", { class: "num", text: pct(c.feedback) })));
    }
    table.appendChild(body);
    box.appendChild(el("div", { class: "scroll" }, table));
  }

  function renderGrowth(data) {
    const box = clear($("growth-chart"));
    const metric = state.growthMetric;
    const top = data.top_performers.join(", ");
    $("growth-note").textContent = top
      ? t("growth.note", { rep: data.rep, team: data.team, top })
      : t("growth.noTop", { rep: data.rep, team: data.team });
    const width = 460;
    const height = 200;
    const pad = { left: 40, right: 10, top: 10, bottom: 34 };
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const isQuality = metric === "quality";
    const max = isQuality ? 100 : 1;
    const chart = svg("svg", { width, height, role: "img", id: "growth-svg" });
    for (let i = 0; i <= 4; i += 1) {
      const y = pad.top + plotH - (plotH * i) / 4;
      chart.appendChild(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y, stroke: "#e4e7eb" }));
      chart.appendChild(svg("text", { x: pad.left - 4, y: y + 4, "text-anchor": "end", "font-size": 10, fill: "#616e7c" },
        isQuality ? String(25 * i) : `${25 * i}%`));
    }
    const weeks = data.weeks;
    const step = weeks.length > 1 ? plotW / (weeks.length - 1) : 0;
    const point = (index, value) => [pad.left + step * index, pad.top + plotH - (plotH * Math.min(value, max)) / max];
    for (const [who, colour, dash] of [["top", "#9aa5b1", "5 4"], ["rep", "#2d6cdf", null]]) {
      let path = "";
      weeks.forEach((week, index) => {
        const value = week[who][metric];
        if (value === null) return;
        const [x, y] = point(index, value);
        path += `${path ? "L" : "M"}${x.toFixed(1)},${y.toFixed(1)}`;
        chart.appendChild(svg("circle", { cx: x, cy: y, r: 3, fill: colour, class: `point-${who}` },
          svg("title", {}, `${week.week_start}: ${isQuality ? num(value, 1) : pct(value, 1)}`)));
      });
      if (path) chart.appendChild(svg("path", { d: path, fill: "none", stroke: colour, "stroke-width": 2, "stroke-dasharray": dash }));
    }
    weeks.forEach((week, index) => {
      if (weeks.length > 14 && index % Math.ceil(weeks.length / 8)) return;
      chart.appendChild(svg("text", {
        x: pad.left + step * index, y: height - 18, "text-anchor": "middle", "font-size": 9, fill: "#616e7c",
      }, week.week_start.slice(5)));
    });
    box.appendChild(chart);
  }

  function renderHealth(data) {
    const verdict = $("health-verdict");
    verdict.textContent = t("health.verdict", {
      passed: data.passed, needed: data.needed, word: data.healthy ? t("healthy") : t("unhealthy"),
    });
    verdict.className = `verdict ${data.healthy ? "healthy" : "unhealthy"}`;
    const list = clear($("health"));
    for (const item of data.items) {
      const mark = { pass: "✓", fail: "✗", unmeasurable: "–" }[item.status];
      const title = state.lang === "zh" ? HEALTH_ZH[item.key] || item.title : item.title;
      const value = item.status === "unmeasurable"
        ? t("health.unmeasurable")
        : item.unit === "share" ? `${pct(item.value)} (${item.threshold})` : `${num(item.value, 0)} (${item.threshold})`;
      list.appendChild(el("li", { class: item.status, "data-key": item.key, "data-status": item.status },
        el("span", { class: "mark", text: mark }),
        el("div", {},
          el("div", { text: `${item.number}. ${title} · ${value}` }),
          el("div", { class: "detail", text: item.detail }))));
    }
  }

  function renderDrill() {
    const box = clear($("drill"));
    const timeline = state.pipeline && state.data.pipeline;
    if (state.pipeline) {
      $("drill-title").textContent = t("drill.timeline", { id: state.pipeline });
      if (state.errors.pipeline) {
        showError(box, state.errors.pipeline);
        return;
      }
      if (timeline) renderTimeline(box, timeline);
      return;
    }
    $("drill-title").textContent = t("drill.pipelines", { rep: state.filters.rep });
    if (state.errors.pipelines) {
      showError(box, state.errors.pipelines);
      return;
    }
    const data = state.data.pipelines;
    if (!data) return;
    if (!data.pipelines.length) {
      box.appendChild(el("p", { class: "empty", text: t("nothing") }));
      return;
    }
    const table = el("table", { class: "table", id: "pipelines-table" });
    table.appendChild(el("thead", {}, el("tr", {},
      ["col.id", "col.account", "col.outcome", "col.current", "col.since", "col.overdue"]
        .map((key) => el("th", { class: key === "col.overdue" ? "num" : "", text: t(key) })))));
    const body = el("tbody");
    for (const p of data.pipelines) {
      body.appendChild(el("tr", {
        class: "clickable pipeline-row", "data-id": p.id, onclick: () => drillTo("pipeline", p.id),
      },
        el("td", { text: p.id }),
        el("td", { text: p.account || "–" }),
        el("td", { text: t(`outcome.${p.outcome}`) }),
        el("td", { text: p.current_action ? actionName(p.current_action) : "–" }),
        el("td", { text: formatTime(p.current_since) }),
        el("td", { class: "num", text: String(p.overdue_actions) })));
    }
    table.appendChild(body);
    box.appendChild(table);
    if (data.truncated) box.appendChild(el("p", { class: "empty", text: t("truncated", { n: data.pipelines.length }) }));
  }

  function renderTimeline(box, p) {
    box.appendChild(el("p", { class: "formula", text: t("timeline.meta", {
      rep: p.rep, manager: p.manager || "–", region: p.region, account: p.account || "–", outcome: t(`outcome.${p.outcome}`),
    }) }));
    const times = [];
    for (const a of p.actions) {
      for (const value of [a.started_at, a.completed_at, a.due_at]) if (value) times.push(Date.parse(value));
    }
    if (p.last_touch_at) times.push(Date.parse(p.last_touch_at));
    const started = p.actions.filter((a) => a.started_at);
    const width = 900;
    const left = 190;
    const rowH = 26;
    const chart = svg("svg", { width, height: rowH * p.actions.length + 30, role: "img", id: "timeline-svg" });
    if (times.length) {
      const low = Math.min(...times);
      const high = Math.max(...times, low + 3600e3);
      const plot = width - left - 20;
      const x = (ms) => left + (plot * (ms - low)) / (high - low);
      p.actions.forEach((a, index) => {
        const y = index * rowH + 4;
        chart.appendChild(svg("text", { x: left - 8, y: y + 15, "text-anchor": "end", "font-size": 12 },
          state.lang === "zh" ? a.name_zh || a.name || actionName(a.key) : a.name || actionName(a.key)));
        if (!a.started_at) return;
        const from = Date.parse(a.started_at);
        const to = a.completed_at ? Date.parse(a.completed_at) : high;
        const colour = a.overdue ? "#d64545" : a.completed_at ? "#2f8f5b" : "#2d6cdf";
        chart.appendChild(svg("rect", {
          x: x(from), y: y + 4, width: Math.max(3, x(to) - x(from)), height: 14, rx: 2, fill: colour,
          "fill-opacity": a.completed_at ? 1 : 0.55, class: "timeline-bar", "data-action": a.key,
        }, svg("title", {}, `${formatTime(a.started_at)} → ${formatTime(a.completed_at)}`)));
        if (a.due_at) {
          const dx = x(Date.parse(a.due_at));
          chart.appendChild(svg("line", { x1: dx, x2: dx, y1: y, y2: y + 22, stroke: "#102a43", "stroke-width": 2, "stroke-dasharray": "3 2" }));
        }
        if (a.escalations) {
          chart.appendChild(svg("text", { x: x(to) + 6, y: y + 15, "font-size": 11, fill: "#d64545" }, `▲${a.escalations}`));
        }
      });
      chart.appendChild(svg("text", { x: left, y: rowH * p.actions.length + 22, "font-size": 10, fill: "#616e7c" }, formatTime(new Date(low).toISOString())));
      chart.appendChild(svg("text", { x: width - 20, y: rowH * p.actions.length + 22, "font-size": 10, "text-anchor": "end", fill: "#616e7c" }, formatTime(new Date(high).toISOString())));
    }
    if (started.length) box.appendChild(el("div", { class: "chart" }, chart));

    const table = el("table", { class: "table", id: "timeline-table" });
    table.appendChild(el("thead", {}, el("tr", {},
      ["col.action", "col.status", "col.started", "col.completedAt", "col.due", "col.overdue", "col.escalations"]
        .map((key) => el("th", { text: t(key) })))));
    const body = el("tbody");
    for (const a of p.actions) {
      body.appendChild(el("tr", { "data-action": a.key, "data-status": a.status },
        el("td", { text: state.lang === "zh" ? a.name_zh || a.name : a.name || actionName(a.key) }),
        el("td", { text: t(`status.${a.status}`) }),
        el("td", { text: formatTime(a.started_at) }),
        el("td", { text: formatTime(a.completed_at) }),
        el("td", { text: formatTime(a.due_at) }),
        el("td", {}, a.overdue ? el("span", { class: "flag red", text: t("yes") }) : t("no")),
        el("td", { class: "num", text: String(a.escalations) })));
    }
    table.appendChild(body);
    box.appendChild(table);
    if (p.tickets.length) {
      box.appendChild(el("p", { class: "formula", text: `${t("timeline.tickets")}: ${p.tickets.map((tk) => `${tk.department} ${tk.status}`).join(", ")}` }));
    }
  }

  start();
})();
