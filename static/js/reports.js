// The reports page: asks reports/summary/ for the chosen period and scope, and draws the
// figures, the agents' rows and three charts from the answer.
(function () {
  "use strict";

  const { draw, duration, percent, request } = window.CXGearCharts;
  const initial = JSON.parse(document.getElementById("reports-initial").textContent);
  const form = document.getElementById("report-filters");
  const status = document.getElementById("report-status");
  const csv = document.getElementById("report-csv");
  const API = "/api/v1/reports/summary/";

  function option(value, text) {
    const node = document.createElement("option");
    node.value = value;
    node.textContent = text;
    return node;
  }

  function setUp() {
    const params = new URLSearchParams(window.location.search);
    form.elements.from.value = params.get("from") || initial.from;
    form.elements.to.value = params.get("to") || initial.to;
    for (const project of initial.projects) form.elements.project.append(option(project.id, project.name));
    for (const agent of initial.agents) form.elements.agent.append(option(agent.id, `${agent.name} (${agent.email})`));
    form.elements.project.value = params.get("project") || "";
    form.elements.agent.value = params.get("agent") || "";
  }

  function query() {
    const params = new URLSearchParams();
    for (const name of ["from", "to", "project", "agent"]) {
      const value = form.elements[name].value;
      if (value) params.set(name, value);
    }
    return params;
  }

  function text(id, value) {
    document.getElementById(id).textContent = value;
  }

  function renderFigures(report) {
    text("fig-conversations", report.conversations.toLocaleString());
    text("fig-messages", `${report.messages_in.toLocaleString()} / ${report.messages_out.toLocaleString()}`);
    text("fig-first-reply-p50", duration(report.first_reply_p50_seconds));
    text("fig-first-reply-p90", duration(report.first_reply_p90_seconds));
    text("fig-handle-p50", duration(report.handle_p50_seconds));
    text("fig-sla", percent(report.sla_met_share));
    text("fig-transfers", report.transfers.toLocaleString());
  }

  function renderAgents(report) {
    const body = document.querySelector("#report-agents tbody");
    body.replaceChildren();
    if (!report.agents.length) {
      const row = body.insertRow();
      const cell = row.insertCell();
      cell.colSpan = 9;
      cell.className = "rp-empty";
      cell.textContent = "No conversations in this period.";
      return;
    }
    const names = new Map(initial.agents.map((a) => [a.id, a.name]));
    for (const agent of report.agents) {
      const row = body.insertRow();
      const name = agent.agent === null ? "Not assigned" : names.get(agent.agent) || agent.email;
      const cells = [
        name,
        agent.conversations.toLocaleString(),
        agent.messages_in.toLocaleString(),
        agent.messages_out.toLocaleString(),
        duration(agent.first_reply_p50_seconds),
        duration(agent.first_reply_p90_seconds),
        duration(agent.handle_p50_seconds),
        percent(agent.sla_met_share),
        agent.transfers.toLocaleString(),
      ];
      cells.forEach((value, i) => {
        const cell = i === 0 ? document.createElement("th") : document.createElement("td");
        if (i === 0) cell.scope = "row";
        cell.textContent = value;
        row.append(cell);
      });
    }
  }

  function renderCharts(report) {
    draw(document.getElementById("chart-volume"), {
      title: "Conversations opened and median first reply by hour of day",
      labels: report.by_hour.map((h) => String(h.hour).padStart(2, "0")),
      bars: report.by_hour.map((h) => h.conversations),
      barFormat: (v) => String(Math.round(v * 10) / 10),
      line: report.by_hour.map((h) => h.first_reply_p50_seconds),
      lineFormat: duration,
      labelEvery: 2,
    });
    draw(document.getElementById("chart-distribution"), {
      title: "Conversations by time to first reply",
      labels: report.first_reply_distribution.map((b) => b.bucket),
      bars: report.first_reply_distribution.map((b) => b.conversations),
      barFormat: (v) => String(Math.round(v * 10) / 10),
      labelEvery: 1,
    });
    draw(document.getElementById("chart-sla"), {
      title: "Share of first replies within the SLA by day",
      labels: report.by_day.map((d) => d.date.slice(5)),
      bars: report.by_day.map((d) => d.sla_met_share),
      barMax: 1,
      barFormat: percent,
    });
  }

  async function load() {
    const params = query();
    csv.href = `${API}?${params}&format=csv`;
    status.textContent = "Loading…";
    try {
      const report = await request("GET", `${API}?${params}`);
      renderFigures(report);
      renderAgents(report);
      renderCharts(report);
      lastReport = report;
      status.textContent = `${report.conversations.toLocaleString()} conversations from ${form.elements.from.value} to ${form.elements.to.value} (${report.timezone}).`;
      document.body.dataset.loaded = "true";
      window.history.replaceState(null, "", `?${params}`);
    } catch (error) {
      status.textContent = error.message;
    }
  }

  // Redrawn at the new width when the window changes size.
  let lastReport = null;
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => lastReport && renderCharts(lastReport), 150);
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load();
  });
  setUp();
  load();
})();
