// The supervision board: renders the organization's agents, queue and open chats, keeps
// them live from /ws/dock/ events (re-reading the supervision API after each, debounced)
// and sends the supervisor's actions to the API.
(function () {
  "use strict";

  const initial = JSON.parse(document.getElementById("board-initial").textContent);
  const state = {
    agents: initial.agents,
    queue: initial.queue,
    open: [],
    projects: initial.projects,
    fetchedAt: Date.now(),
    panelConversation: null,
  };
  const $ = (selector, root) => (root || document).querySelector(selector);
  const connection = $("#connection");

  // --- helpers ------------------------------------------------------------------------

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      // Through the CSSOM: the page's policy refuses style attributes.
      else if (key === "style") node.style.cssText = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of [].concat(children || [])) {
      if (child !== null && child !== undefined) {
        node.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
    }
    return node;
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function errorText(body, status) {
    if (!body || typeof body !== "object") return `The server answered ${status}.`;
    if (body.detail) return body.detail;
    return Object.entries(body)
      .map(([field, problems]) => `${field}: ${[].concat(problems).join(" ")}`)
      .join("; ");
  }

  async function send(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(), Accept: "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error(errorText(data, response.status));
    return data;
  }

  async function readAll(url) {
    const results = [];
    let next = url;
    while (next) {
      const page = await send("GET", next);
      results.push(...page.results);
      next = page.next;
    }
    return results;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
    return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  }

  function elapsed() {
    return (Date.now() - state.fetchedAt) / 1000;
  }

  function since(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function agentName(id) {
    const agent = state.agents.find((a) => a.id === id);
    return agent ? agent.name : "–";
  }

  function projectName(id) {
    const project = state.projects.find((p) => p.id === id);
    return project ? project.name : `Project ${id}`;
  }

  function customer(conversation) {
    const c = conversation.contact;
    return c.name || c.wa_id || c.user_id || `Conversation ${conversation.id}`;
  }

  // --- rendering ----------------------------------------------------------------------

  function renderAgents() {
    const body = $("#agents tbody");
    body.replaceChildren(
      ...state.agents.map((agent) => {
        const ratio = agent.max_open
          ? Math.min(1, agent.open_count / agent.max_open)
          : Number(agent.open_count > 0);
        const waited = agent.oldest_waiting_seconds === null ? null : agent.oldest_waiting_seconds + elapsed();
        const maxInput = el("input", {
          type: "number", min: "0", max: "1000", value: agent.max_open,
          "aria-label": `Max open chats of ${agent.name}`, class: "max-open",
        });
        const skillsInput = el("input", {
          type: "text", value: agent.skills.join(", "),
          "aria-label": `Skills of ${agent.name}`, class: "skills",
        });
        return el("tr", { "data-agent": agent.id, class: agent.overloaded ? "overloaded" : null }, [
          el("th", { scope: "row" }, [
            el("span", { class: "agent-name", text: agent.name }),
            el("small", { text: agent.role === "supervisor" ? " supervisor" : "" }),
          ]),
          el("td", {}, [
            el("span", { class: `presence presence-${agent.presence}`, text: [agent.presence, agent.presence_reason].filter(Boolean).join(" · ") }),
            el("small", { class: "in-state", "data-since": agent.presence_since || null, text: agent.presence_since ? ` since ${since(agent.presence_since)} · ${inState(agent.presence_since)}` : "" }),
          ]),
          el("td", { class: "load" }, [
            el("span", {
              class: "load-text", "aria-label": `Load of ${agent.name}`,
              text: `${agent.open_count} / ${agent.max_open}`,
            }),
            el("span", {
              class: "load-bar", role: "progressbar", "aria-label": `Load bar of ${agent.name}`,
              "aria-valuemin": "0", "aria-valuemax": String(agent.max_open), "aria-valuenow": String(agent.open_count),
            }, el("span", { style: `width:${Math.round(ratio * 100)}%` })),
            agent.overloaded ? el("strong", { class: "flag", text: "Overloaded" }) : null,
          ]),
          el("td", { class: "waiting", "data-seconds": agent.oldest_waiting_seconds }, [
            agent.oldest_waiting_conversation
              ? el("button", {
                  type: "button", class: "link",
                  onclick: () => openPanel(agent.oldest_waiting_conversation),
                  text: duration(waited),
                })
              : "–",
          ]),
          el("td", { class: "capacity" }, [
            maxInput, skillsInput,
            el("button", {
              type: "button", text: "Save",
              "aria-label": `Save capacity and skills of ${agent.name}`,
              onclick: () => act(
                () => send("PATCH", `/api/v1/members/${agent.id}/`, {
                  max_open: Number(maxInput.value),
                  skills: skillsInput.value.split(",").map((s) => s.trim()).filter(Boolean),
                }),
              ),
            }),
          ]),
          el("td", {}, agent.presence === "offline" ? null : el("button", {
            type: "button", text: "Set Offline", "aria-label": `Set ${agent.name} Offline`,
            onclick: () => act(() => send("POST", `/supervision/members/${agent.id}/offline/`)),
          })),
        ]);
      }),
    );
  }

  function renderQueue() {
    const root = $("#queue");
    $("#queue-count").textContent = state.queue.length ? `(${state.queue.length})` : "";
    if (!state.queue.length) {
      root.replaceChildren(el("p", { class: "empty", text: "Nobody is waiting." }));
      return;
    }
    const byProject = new Map();
    for (const item of state.queue) {
      if (!byProject.has(item.project)) byProject.set(item.project, []);
      byProject.get(item.project).push(item);
    }
    root.replaceChildren(
      ...[...byProject.entries()].map(([projectId, items]) =>
        el("section", { class: "queue-project", "aria-label": `Queue of ${items[0].project_name}` }, [
          el("h3", { text: `${items[0].project_name} · ${items.length} waiting` }),
          el("ol", {}, items.map((item) => {
            const select = agentSelect(`Assign ${customer(item)} to`);
            return el("li", { "data-conversation": item.id }, [
              el("button", { type: "button", class: "link", text: customer(item), onclick: () => openPanel(item.id) }),
              el("span", { class: "waiting", "data-seconds": item.waiting_seconds, text: ` waiting ${duration(item.waiting_seconds + elapsed())}` }),
              el("small", { text: [item.language, ...item.required_skills].filter(Boolean).join(" · ") }),
              select,
              el("button", {
                type: "button", text: "Assign",
                onclick: () => act(() => send("POST", `/api/v1/conversations/${item.id}/transfer/`, { agent: Number(select.value) })),
              }),
            ]);
          })),
        ]),
      ),
    );
  }

  function renderOpen() {
    const body = $("#open tbody");
    body.replaceChildren(
      ...state.open.map((c) =>
        el("tr", { "data-conversation": c.id }, [
          el("th", { scope: "row" }, el("button", { type: "button", class: "link", text: customer(c), onclick: () => openPanel(c.id) })),
          el("td", { text: agentName(c.agent) }),
          el("td", { text: projectName(c.project) }),
          el("td", { text: since(c.assigned_at) }),
        ]),
      ),
    );
  }

  function agentSelect(label, exclude) {
    return el("select", { "aria-label": label }, state.agents
      .filter((a) => a.id !== exclude)
      .map((a) => el("option", { value: a.id, text: `${a.name} (${a.open_count}/${a.max_open}, ${a.presence})` })));
  }

  function render() {
    renderAgents();
    renderQueue();
    renderOpen();
  }

  // How long an agent has been in their presence state ("12m 4s").
  function inState(iso) {
    return duration((Date.now() - Date.parse(iso)) / 1000);
  }

  // Waiting times grow between refreshes without asking the server.
  setInterval(() => {
    for (const node of document.querySelectorAll(".in-state[data-since]")) {
      node.textContent = ` since ${since(node.dataset.since)} · ${inState(node.dataset.since)}`;
    }
    for (const node of document.querySelectorAll(".waiting[data-seconds]")) {
      const base = Number(node.dataset.seconds);
      if (node.dataset.seconds === "" || Number.isNaN(base)) continue;
      const target = node.querySelector("button") || node;
      target.textContent = (node.tagName === "SPAN" ? " waiting " : "") + duration(base + elapsed());
    }
  }, 1000);

  // --- data ---------------------------------------------------------------------------

  let refreshTimer = null;
  let refreshing = false;
  let again = false;

  async function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    try {
      const [agents, queue, open] = await Promise.all([
        readAll("/api/v1/supervision/agents/?page_size=500"),
        readAll("/api/v1/supervision/queue/?page_size=500"),
        readAll("/api/v1/conversations/?status=assigned&page_size=500"),
      ]);
      Object.assign(state, { agents, queue, open, fetchedAt: Date.now() });
      render();
      if (state.panelConversation) loadPanel(state.panelConversation);
    } catch (error) {
      connection.textContent = `Could not refresh: ${error.message}`;
    } finally {
      refreshing = false;
      if (again) { again = false; scheduleRefresh(); }
    }
  }

  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, 250);
  }

  async function act(action) {
    const error = $("#panel-error");
    error.textContent = "";
    try {
      await action();
    } catch (problem) {
      error.textContent = problem.message;
      if ($("#panel").hidden) window.alert(problem.message);
    }
    scheduleRefresh();
  }

  // --- the conversation panel ---------------------------------------------------------

  async function loadPanel(id) {
    const response = await fetch(`/supervision/conversations/${id}/?panel=1`, { credentials: "same-origin" });
    if (!response.ok) return;
    $("#panel-body").innerHTML = await response.text();
    const article = $("#panel-body article");
    const select = $("#reassign-to");
    const current = Number(article.dataset.agent) || null;
    const chosen = select.value; // a live refresh must not undo the supervisor's choice
    select.replaceChildren(...agentSelect("", current).children);
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
    const closed = article.dataset.status === "closed";
    for (const button of document.querySelectorAll("#panel-actions button")) button.disabled = closed;
  }

  function openPanel(id) {
    state.panelConversation = id;
    $("#panel").hidden = false;
    $("#panel-error").textContent = "";
    loadPanel(id);
  }

  $("#panel .panel-close").addEventListener("click", () => {
    state.panelConversation = null;
    $("#panel").hidden = true;
  });

  $("#panel-actions").addEventListener("click", (event) => {
    const action = event.target.dataset && event.target.dataset.action;
    const id = state.panelConversation;
    if (!action || !id) return;
    const url = `/api/v1/conversations/${id}/`;
    if (action === "reassign") {
      act(() => send("POST", `${url}transfer/`, { agent: Number($("#reassign-to").value), note: "Reassigned by a supervisor" }));
    } else if (action === "requeue") {
      act(() => send("POST", `${url}transfer/`, { note: "Returned to the queue by a supervisor" }));
    } else if (action === "close") {
      act(() => send("POST", `${url}close/`, { outcome: $("#close-outcome").value || "Closed by supervisor" }));
    }
  });

  // --- live updates -------------------------------------------------------------------

  let pollTimer = null;
  let backoff = 1000;

  function poll(label) {
    connection.textContent = label;
    clearInterval(pollTimer);
    pollTimer = setInterval(refresh, 5000);
  }

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const socket = new WebSocket(`${scheme}://${location.host}/ws/dock/`);
    socket.addEventListener("open", () => {
      backoff = 1000;
      clearInterval(pollTimer);
      connection.textContent = "Live";
      scheduleRefresh(); // whatever happened while we were away
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      const type = frame.type || "";
      if (type.startsWith("conversation.") || type.startsWith("presence.") || type.startsWith("member.") || type === "message.created") {
        scheduleRefresh();
      }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { location.href = "/accounts/login/?next=/supervision/"; return; }
      if (event.code === 4403) { poll("Updating every 5 seconds"); return; } // no live stream for this role
      connection.textContent = "Reconnecting…";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    });
  }

  render();
  refresh();
  connect();
})();
