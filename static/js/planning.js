// The staffing planner: a load forecast (Erlang C) or a replay of a recorded period, from
// planning/forecast/, drawn as the share answered in time for each number of agents.
(function () {
  "use strict";

  const { draw, duration, percent, request } = window.CXGearCharts;
  const initial = JSON.parse(document.getElementById("planning-initial").textContent);
  const forecastForm = document.getElementById("forecast-form");
  const replayForm = document.getElementById("replay-form");
  const answer = document.getElementById("planning-answer");
  const API = "/api/v1/planning/forecast/";

  replayForm.elements.from.value = initial.from;
  replayForm.elements.to.value = initial.to;
  for (const project of initial.projects) {
    const node = document.createElement("option");
    node.value = project.id;
    node.textContent = project.name;
    replayForm.elements.project.append(node);
  }

  function numberOf(form, name) {
    return Number(form.elements[name].value);
  }

  function target(form) {
    return {
      target_wait_seconds: numberOf(form, "target_wait_seconds"),
      target_share: numberOf(form, "target_share") / 100,
    };
  }

  let last = null;
  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => last && render(last.result, last.goal), 150);
  });

  function render(result, goal) {
    last = { result, goal };
    const needed = result.agents_needed;
    let summary =
      needed === null
        ? `None of these staffings answers ${percent(goal.target_share)} within ${goal.target_wait_seconds}s.`
        : `${needed} agent${needed === 1 ? "" : "s"} needed to answer ${percent(goal.target_share)} within ${goal.target_wait_seconds}s`;
    if (needed !== null && result.mode === "erlang-c") summary += ` (a load of ${result.load_erlangs} Erlangs).`;
    if (needed !== null && result.mode === "replay") summary += ` for the ${result.conversations} chats replayed.`;
    if (result.mode === "replay") {
      summary += ` As recorded, with ${result.recorded.agents} agents: ${percent(result.recorded.share_within_target)} in time, mean wait ${duration(result.recorded.mean_wait_seconds)}.`;
    }
    answer.textContent = summary;
    answer.dataset.agentsNeeded = needed === null ? "" : String(needed);

    draw(document.getElementById("chart-staffing"), {
      title: "Share answered in time and mean wait by number of agents",
      labels: result.staffing.map((r) => String(r.agents)),
      bars: result.staffing.map((r) => r.share_within_target),
      barMax: 1,
      barFormat: percent,
      target: goal.target_share,
      line: result.staffing.map((r) => r.mean_wait_seconds),
      lineFormat: duration,
      labelEvery: 1,
    });
    const body = document.querySelector("#planning-table tbody");
    body.replaceChildren();
    for (const row of result.staffing) {
      const tr = body.insertRow();
      if (row.agents === needed) tr.className = "rp-needed";
      const head = document.createElement("th");
      head.scope = "row";
      head.textContent = row.agents;
      tr.append(head);
      tr.insertCell().textContent = percent(row.share_within_target);
      tr.insertCell().textContent = duration(row.mean_wait_seconds);
    }
  }

  async function ask(body, goal) {
    answer.textContent = "Working it out…";
    try {
      render(await request("POST", API, body), goal);
    } catch (error) {
      answer.textContent = error.message;
    }
  }

  forecastForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const goal = target(forecastForm);
    ask(
      {
        arrivals_per_hour: numberOf(forecastForm, "arrivals_per_hour"),
        handle_minutes: numberOf(forecastForm, "handle_minutes"),
        max_open: numberOf(forecastForm, "max_open"),
        ...goal,
      },
      goal,
    );
  });

  replayForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const goal = target(replayForm);
    const agents = replayForm.elements.agents.value
      .split(/[\s,]+/)
      .filter(Boolean)
      .map(Number);
    ask(
      {
        replay: {
          from: replayForm.elements.from.value,
          to: replayForm.elements.to.value,
          project: Number(replayForm.elements.project.value),
        },
        agents,
        ...goal,
      },
      goal,
    );
  });
})();
