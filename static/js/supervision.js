// The supervision board: renders the organization's agents, queue and open chats with
// each project's first-reply deadlines, keeps them live from /ws/dock/ events (re-reading
// the supervision API after each, debounced), alerts on a new breach (sla.breached: a
// chime and a highlight) and sends the supervisor's actions to the API.
(function () {
  "use strict";

  const initial = JSON.parse(document.getElementById("board-initial").textContent);
  const state = {
    agents: initial.agents,
    queue: initial.queue,
    open: [],
    projects: initial.projects,
    sla: initial.sla,
    fetchedAt: Date.now(),
    panelConversation: null,
    panelPage: null,
    candidates: [],
    fresh: new Set(), // conversations whose breach just arrived: highlighted a while
  };
  // A chat with less than this share of its target left is "due soon".
  const DUE_SOON_SHARE = 0.25;
  const $ = (selector, root) => (root || document).querySelector(selector);
  const connection = $("#connection");
  const chime = new Audio($(".sv-main").dataset.chimeUrl);
  chime.preload = "auto";
  // The chime is on unless this supervisor turned it off here (remembered in the browser).
  const soundKey = `cxgear.${initial.me}.board-sound`;
  const soundSwitch = $("#pref-sound");
  try { soundSwitch.checked = localStorage.getItem(soundKey) !== "off"; } catch { /* on */ }
  soundSwitch.addEventListener("change", () => {
    try { localStorage.setItem(soundKey, soundSwitch.checked ? "on" : "off"); } catch { /* this page only */ }
  });

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

  const send = window.CXGearApi.request; // static/js/api.js

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

  // --- first replies ------------------------------------------------------------------

  function project(id) {
    return state.projects.find((p) => p.id === id) || { id, name: `Project ${id}`, settings: [], sla_seconds: null };
  }

  function clock(seconds) {
    const s = Math.floor(Math.abs(seconds));
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  // Where a chat stands against its first-reply target: null (none, or answered),
  // "amber" (under a quarter left) or "red" (past it); and the seconds left.
  function slaState(c) {
    if (!c.sla_due_at || c.first_reply_at) return null;
    const left = (new Date(c.sla_due_at).getTime() - Date.now()) / 1000;
    const target = project(c.project).sla_seconds || 0;
    if (left <= 0 || c.sla_breached_at) return { level: "red", left };
    if (target && left < target * DUE_SOON_SHARE) return { level: "amber", left };
    return { level: "ok", left };
  }

  function slaPill(c) {
    const sla = slaState(c);
    if (!c.sla_due_at) return el("span", { class: "sla-none", text: "no target" });
    if (!sla) return el("span", { text: "answered" });
    const text = sla.level === "red" ? `Missed ${clock(sla.left)}` : `Due in ${clock(sla.left)}`;
    return el("span", {
      class: `sla${sla.level === "ok" ? "" : ` ${sla.level}`}`, "data-due": c.sla_due_at, text,
    });
  }

  function openAndQueued() {
    return [...state.queue, ...state.open];
  }

  function renderSla() {
    const counts = new Map(state.sla.map((row) => [row.project, row]));
    const chats = openAndQueued();
    $("#sla-projects").replaceChildren(
      ...state.projects.map((p) => {
        const mine = chats.filter((c) => c.project === p.id);
        const late = mine.filter((c) => (slaState(c) || {}).level === "red");
        const soon = mine.filter((c) => (slaState(c) || {}).level === "amber");
        const row = counts.get(p.id) || { open: 0, today: 0 };
        const counter = (value, label, heat) =>
          el("p", { class: `sv-counter${value ? ` ${heat}` : ""}`, "data-counter": label }, [
            el("strong", { text: String(value) }), el("span", { text: label }),
          ]);
        return el("section", { class: "sv-project", "aria-label": `First replies in ${p.name}`, "data-project": p.id }, [
          el("h3", { text: p.name }),
          el("dl", { class: "facts" }, p.settings.flatMap((s) => [el("dt", { text: s.label }), el("dd", { text: s.value })])),
          p.sla_seconds
            ? el("div", { class: "sv-counters" }, [
                counter(row.open, "missed, chat open", "hot"),
                counter(row.today, "missed today", "hot"),
                counter(soon.length, "due soon", "warm"),
              ])
            : null,
          late.length || soon.length
            ? el("ul", { class: "sv-due", "aria-label": `Chats near or past their first reply in ${p.name}` },
                [...late, ...soon].map((c) => el("li", {}, [
                  slaPill(c),
                  el("button", { type: "button", class: "link", text: customer(c), onclick: () => openPanel(c.id) }),
                  el("small", { text: c.agent ? agentName(c.agent) : c.status === "offered" ? "offered" : "in the queue" }),
                ])))
            : null,
        ]);
      }),
    );
  }

  // --- agents, queue, open chats --------------------------------------------------------

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
        const classes = [agent.over_capacity ? "over-capacity" : "", agent.customer_waiting ? "customer-waiting" : ""];
        return el("tr", { "data-agent": agent.id, class: classes.filter(Boolean).join(" ") || null }, [
          el("th", { scope: "row" }, [
            el("span", { class: "agent-name", text: agent.name }),
            el("small", { text: agent.role === "supervisor" ? " supervisor" : "" }),
          ]),
          el("td", { "data-label": "Presence" }, [
            el("span", { class: `sv-presence presence-${agent.presence}`, text: [agent.presence[0].toUpperCase() + agent.presence.slice(1), agent.presence_reason].filter(Boolean).join(" · ") }),
            el("small", { class: "in-state", "data-since": agent.presence_since || null, text: agent.presence_since ? ` since ${since(agent.presence_since)} · ${inState(agent.presence_since)}` : "" }),
          ]),
          el("td", { class: "load", "data-label": "Load" }, [
            el("span", {
              class: "load-text", "aria-label": `Load of ${agent.name}`,
              text: `${agent.open_count} / ${agent.max_open}`,
            }),
            el("span", {
              class: "load-bar", role: "progressbar", "aria-label": `Load bar of ${agent.name}`,
              "aria-valuemin": "0", "aria-valuemax": String(agent.max_open), "aria-valuenow": String(agent.open_count),
            }, el("span", { style: `width:${Math.round(ratio * 100)}%` })),
            agent.over_capacity || agent.customer_waiting
              ? el("span", { class: "flags" }, [
                  agent.over_capacity ? el("span", {
                    class: "flag flag-capacity",
                    title: `${agent.open_count} open chats, more than the maximum of ${agent.max_open}`,
                    text: "Over capacity",
                  }) : null,
                  agent.customer_waiting ? el("span", {
                    class: "flag flag-waiting",
                    title: "A customer of theirs has waited 5 minutes or more for an answer",
                    text: "Customer waiting 5 min",
                  }) : null,
                ])
              : null,
          ]),
          el("td", { class: "waiting", "data-seconds": agent.oldest_waiting_seconds, "data-label": "Oldest unanswered" }, [
            agent.oldest_waiting_conversation
              ? el("button", {
                  type: "button", class: "link",
                  "aria-label": `Open the oldest unanswered chat of ${agent.name}`,
                  onclick: () => openPanel(agent.oldest_waiting_conversation),
                  text: duration(waited),
                })
              : "–",
          ]),
          el("td", { class: "sv-capacity", "data-label": "Capacity and skills" }, [
            maxInput, skillsInput,
            el("button", {
              type: "button", class: "ghost", text: "Save",
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
            type: "button", class: "ghost", text: "Set Offline", "aria-label": `Set ${agent.name} Offline`,
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
      ...[...byProject.entries()].map(([, items]) =>
        el("section", { class: "queue-project", "aria-label": `Queue of ${items[0].project_name}` }, [
          el("h3", { text: `${items[0].project_name} · ${items.length} waiting` }),
          el("ol", {}, items.map((item) => el("li", { "data-conversation": item.id }, [
            el("button", { type: "button", class: "link", text: customer(item), onclick: () => openPanel(item.id) }),
            el("span", { class: "waiting", "data-seconds": item.waiting_seconds, text: ` waiting ${duration(item.waiting_seconds + elapsed())}` }),
            item.sla_due_at ? slaPill(item) : null,
            el("small", { text: [item.language, ...item.required_skills].filter(Boolean).join(" · ") }),
            el("button", {
              type: "button", class: "ghost", text: "Assign…",
              "aria-label": `Assign ${customer(item)}`,
              onclick: () => openPanel(item.id),
            }),
          ]))),
        ]),
      ),
    );
  }

  function renderOpen() {
    $("#open-count").textContent = state.open.length ? `(${state.open.length})` : "";
    $("#open tbody").replaceChildren(
      ...state.open.map((c) => {
        const sla = slaState(c);
        const classes = [sla && sla.level === "red" ? "sla-red" : "", state.fresh.has(c.id) ? "sla-new" : ""];
        return el("tr", { "data-conversation": c.id, class: classes.filter(Boolean).join(" ") || null }, [
          el("th", { scope: "row" }, el("button", { type: "button", class: "link", text: customer(c), onclick: () => openPanel(c.id) })),
          el("td", { "data-label": "Agent" }, c.status === "offered"
            ? [agentName(c.offered_to), el("span", { class: "offered", text: " (offered)" })]
            : agentName(c.agent)),
          el("td", { "data-label": "Project", text: projectName(c.project) }),
          el("td", { class: "first-reply", "data-label": "First reply" }, slaPill(c)),
        ]);
      }),
    );
  }

  function render() {
    drawnLevels = slaLevels();
    renderSla();
    renderAgents();
    renderQueue();
    renderOpen();
  }

  // How long an agent has been in their presence state ("12m 4s").
  function inState(iso) {
    return duration((Date.now() - Date.parse(iso)) / 1000);
  }

  // The levels of every deadline on the board: the lists are drawn again only when one
  // changes; in between, the countdowns' text moves in place (no focus or click is lost).
  function slaLevels() {
    return openAndQueued().map((c) => `${c.id}:${(slaState(c) || {}).level || ""}`).join(",");
  }
  let drawnLevels = "";

  // Waiting times and deadlines move between refreshes without asking the server.
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
    const levels = slaLevels();
    if (levels !== drawnLevels) {
      // Not the agents' table: a supervisor may be typing a capacity there.
      drawnLevels = levels;
      renderSla();
      renderQueue();
      renderOpen();
      return;
    }
    for (const pill of document.querySelectorAll(".sla[data-due]")) {
      const left = (new Date(pill.dataset.due).getTime() - Date.now()) / 1000;
      pill.textContent = left <= 0 ? `Missed ${clock(left)}` : `Due in ${clock(left)}`;
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
      const [agents, queue, offered, assigned, board] = await Promise.all([
        readAll("/api/v1/supervision/agents/?page_size=500"),
        readAll("/api/v1/supervision/queue/?page_size=500"),
        readAll("/api/v1/conversations/?status=offered&page_size=500"),
        readAll("/api/v1/conversations/?status=assigned&page_size=500"),
        send("GET", "/supervision/sla/"),
      ]);
      const open = [...offered, ...assigned];
      Object.assign(state, { agents, queue, open, projects: board.projects, sla: board.sla, fetchedAt: Date.now() });
      render();
      if (state.panelConversation) loadPanel(state.panelConversation, state.panelPage);
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

  async function loadPanel(id, page) {
    const query = page ? `&page=${page}` : "";
    const [response, candidates] = await Promise.all([
      fetch(`/supervision/conversations/${id}/?panel=1${query}`, { credentials: "same-origin" }),
      send("GET", `/supervision/conversations/${id}/candidates/`).catch(() => null),
    ]);
    if (!response.ok || id !== state.panelConversation) return;
    $("#panel-body").innerHTML = await response.text();
    const article = $("#panel-body article");
    const queued = article.dataset.status === "queued";
    const closed = article.dataset.status === "closed";
    $("#reassign-label").textContent = queued ? "Assign to" : "Reassign to";
    $("#reassign-button").textContent = queued ? "Assign" : "Reassign";
    state.candidates = candidates ? candidates.agents : [];
    const select = $("#reassign-to");
    const chosen = select.value; // a live refresh must not undo the supervisor's choice
    select.replaceChildren(
      ...(state.candidates.length
        ? state.candidates.map((a) => el("option", {
            value: a.id,
            text: `${a.name} · ${a.open_count} / ${a.max_open} · ${a.presence === "busy" ? "Busy" : "Available"}${a.over_capacity ? " · full" : ""}`,
          }))
        : [el("option", { value: "", text: "Nobody can take this chat now" })]),
    );
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
    for (const button of document.querySelectorAll("#panel-actions button")) button.disabled = closed;
    select.disabled = closed || !state.candidates.length;
    $("#reassign-button").disabled = closed || !state.candidates.length;
    $("#panel-actions [data-action=requeue]").disabled = closed || queued;
    // A note is the team's: it may be kept on a closed chat too.
    $("#panel-actions [data-action=note]").disabled = false;
  }

  function openPanel(id) {
    state.panelConversation = id;
    state.panelPage = null;
    $("#panel").hidden = false;
    $("#panel-error").textContent = "";
    $("#reassign-to").replaceChildren();
    loadPanel(id);
  }

  $("#panel .panel-close").addEventListener("click", () => {
    state.panelConversation = null;
    $("#panel").hidden = true;
  });

  // The thread is paged: its links load the page in the panel.
  $("#panel-body").addEventListener("click", (event) => {
    const link = event.target.closest("a[data-page]");
    if (!link || !state.panelConversation) return;
    event.preventDefault();
    state.panelPage = Number(link.dataset.page);
    loadPanel(state.panelConversation, state.panelPage);
  });

  // Asks before a move puts the agent over their maximum; resolves true to go ahead.
  function confirmOverCapacity(agent) {
    const dialog = $("#over-capacity");
    $("#over-text").textContent =
      `${agent.name} has ${agent.open_count} of ${agent.max_open} chats open` +
      `${agent.presence === "busy" ? " and is Busy" : ""}. This chat takes them to ` +
      `${agent.open_count + 1} / ${agent.max_open}, over capacity; the move is recorded as yours.`;
    return new Promise((resolve) => {
      dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), { once: true });
      dialog.returnValue = "";
      dialog.showModal();
    });
  }

  async function assignTo(id) {
    const agent = state.candidates.find((a) => a.id === Number($("#reassign-to").value));
    if (!agent) return;
    let note = "Reassigned by a supervisor";
    if (agent.over_capacity) {
      if (!(await confirmOverCapacity(agent))) return;
      note = `Assigned over capacity (${agent.open_count + 1} / ${agent.max_open}) by a supervisor`;
    }
    act(() => send("POST", `/api/v1/conversations/${id}/transfer/`, { agent: agent.id, note }));
  }

  $("#panel-actions").addEventListener("click", (event) => {
    const action = event.target.dataset && event.target.dataset.action;
    const id = state.panelConversation;
    if (!action || !id) return;
    const url = `/api/v1/conversations/${id}/`;
    if (action === "reassign") {
      assignTo(id);
    } else if (action === "requeue") {
      act(() => send("POST", `${url}transfer/`, { note: "Returned to the queue by a supervisor" }));
    } else if (action === "close") {
      act(() => send("POST", `${url}close/`, { outcome: $("#close-outcome").value || "Closed by supervisor" }));
    } else if (action === "note") {
      const note = $("#panel-note");
      const text = note.value.trim();
      if (!text) return;
      act(async () => {
        await send("POST", `${url}messages/`, { text, private: true });
        note.value = "";
        await loadPanel(id, state.panelPage);
      });
    }
  });

  // --- a new breach: a chime, a highlight and a line that says which chat -----------------

  function breached(data) {
    const c = data.conversation;
    state.fresh.add(c.id);
    setTimeout(() => { state.fresh.delete(c.id); renderOpen(); }, 6000);
    $("#sla-alert").textContent = `First reply missed: ${customer(c)} (${projectName(c.project)})`;
    if (!soundSwitch.checked) return;
    const replay = chime.cloneNode();
    const played = replay.play();
    if (played && played.catch) played.catch(() => { /* the page has not been touched yet */ });
  }

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
      connection.dataset.state = "live";
      scheduleRefresh(); // whatever happened while we were away
    });
    socket.addEventListener("message", (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      const type = frame.type || "";
      if (type === "sla.breached" && frame.data) breached(frame.data);
      if (type === "sla.breached" || type.startsWith("conversation.") || type.startsWith("presence.") || type.startsWith("member.") || type === "message.created") {
        scheduleRefresh();
      }
    });
    socket.addEventListener("close", (event) => {
      if (event.code === 4401) { location.href = "/accounts/login/?next=/supervision/"; return; }
      if (event.code === 4403) { poll("Updating every 5 seconds"); return; } // no live stream for this role
      connection.textContent = "Reconnecting…";
      connection.dataset.state = "reconnecting";
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 15000);
    });
  }

  render();
  refresh();
  connect();
})();
