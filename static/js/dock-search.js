// Search and history: Ctrl+K finds the agent's conversations, open and closed, by the
// customer's name or number or a word of the thread (the server's full-text search), and
// an earlier conversation opens its whole transcript, read-only, in a drawer beside the
// live thread. Attached by dock.js.
(() => {
  "use strict";

  let dock = null;
  const SEARCH_DELAY_MS = 180;
  let timer = null;
  let results = { query: "", conversations: [] };
  const known = new Map(); // id -> conversation, as search found it
  let transcript = null; // {id, messages, notes, hasMore, before, loading}

  const $ = (id) => document.getElementById(id);
  const normal = (text) => text.trim().toLowerCase();

  // --- search ---------------------------------------------------------------------------

  function query(text) {
    clearTimeout(timer);
    const wanted = normal(text);
    if (!/[\p{L}\p{N}]/u.test(wanted)) {
      results = { query: wanted, conversations: [] };
      return;
    }
    timer = setTimeout(async () => {
      try {
        const data = await dock.request("conversations.search", { query: wanted });
        for (const c of data.conversations) known.set(c.id, c);
        if (normal($("switcher-input").value) !== wanted) return;
        results = { query: wanted, conversations: data.conversations };
        dock.renderSwitcher();
      } catch {
        /* the open chats still show; the next keystroke searches again */
      }
    }, SEARCH_DELAY_MS);
  }

  function found(q) {
    return normal(q) === results.query ? results.conversations : [];
  }

  function reset() {
    clearTimeout(timer);
    results = { query: "", conversations: [] };
  }

  const date = (iso) => (iso ? new Date(iso).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" }) : "");

  function describe(c) {
    const state = c.status === "closed" ? `Closed${c.outcome ? `: ${c.outcome}` : ""} · ${date(c.closed_at)}` : `${c.status} · ${c.agent_name || "no agent"}`;
    return c.match ? `${state} — “${c.match.text}”` : state;
  }

  // --- transcript ---------------------------------------------------------------------

  function transcriptButton(e, contact) {
    known.set(e.id, { ...e, contact, id: e.id });
    return dock.el("button", {
      type: "button",
      class: "link read-transcript",
      text: "Read",
      "aria-label": `Read the conversation of ${date(e.closed_at || e.created_at)}`,
      onclick: () => openTranscript(e.id),
    });
  }

  async function openTranscript(id) {
    const drawer = $("transcript");
    transcript = { id, messages: [], notes: [], hasMore: false, before: null, loading: true };
    const c = known.get(id);
    $("transcript-title").textContent = c ? `${dock.customerName(c)}` : "Transcript";
    $("transcript-sub").textContent = c ? describe({ ...c, match: null }) : "";
    $("transcript-messages").replaceChildren(dock.el("li", { class: "loading", text: "Loading the transcript…" }));
    drawer.hidden = false;
    $("transcript-close").focus();
    try {
      const data = await dock.request("transcript.load", { conversation: id });
      if (!transcript || transcript.id !== id) return;
      Object.assign(transcript, { messages: data.messages, notes: data.notes, hasMore: data.has_more, before: data.before, loading: false });
      const conversation = data.conversation;
      known.set(id, conversation);
      $("transcript-title").textContent = dock.customerName(conversation);
      $("transcript-sub").textContent = [describe({ ...conversation, match: null }), conversation.project_name, conversation.agent_name].filter(Boolean).join(" · ");
      render({ stick: true });
    } catch (err) {
      $("transcript-messages").replaceChildren(dock.el("li", { class: "system", text: err.message }));
    }
  }

  async function loadOlder() {
    const t = transcript;
    if (!t || !t.hasMore || t.loading) return;
    t.loading = true;
    try {
      const data = await dock.request("transcript.load", { conversation: t.id, before: t.before });
      if (transcript !== t) return;
      t.messages = [...data.messages, ...t.messages];
      t.notes = [...data.notes, ...t.notes];
      t.hasMore = data.has_more;
      t.before = data.before;
    } finally {
      t.loading = false;
    }
    render({ stick: false });
  }

  function render({ stick }) {
    const t = transcript;
    const list = $("transcript-messages");
    const fromBottom = list.scrollHeight - list.scrollTop;
    const items = [...t.messages.map((m) => ({ at: m.sent_at || m.created_at, m })), ...t.notes.map((n) => ({ at: n.created_at, n }))].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const nodes = [];
    if (t.hasMore) nodes.push(dock.el("li", { class: "older" }, dock.el("button", { type: "button", class: "link", text: "Earlier messages", onclick: loadOlder })));
    let day = null;
    for (const item of items) {
      const label = dock.dayLabel(item.at);
      if (label !== day) {
        day = label;
        nodes.push(dock.el("li", { class: "day", text: label }));
      }
      if (item.n) {
        nodes.push(dock.el("li", { class: "system", text: dock.noteText(item.n) }));
        continue;
      }
      const m = item.m;
      const side = m.direction === "note" ? "note" : m.direction === "out" ? "out" : "in";
      nodes.push(
        dock.el(
          "li",
          { class: `msg ${side}`, "data-id": m.id },
          dock.el(
            "div",
            { class: "bubble" },
            side === "note" ? dock.el("span", { class: "note-label", text: "Internal note" }) : null,
            dock.el("p", { class: "text", text: dock.bodyText(m) || m.type }),
            dock.el("span", { class: "meta" }, dock.el("time", { datetime: m.sent_at, text: dock.clock(m.sent_at) })),
          ),
        ),
      );
    }
    if (!items.length) nodes.push(dock.el("li", { class: "system", text: "No messages." }));
    list.replaceChildren(...nodes);
    list.scrollTop = stick ? list.scrollHeight : list.scrollHeight - fromBottom;
  }

  function closeTranscript() {
    transcript = null;
    $("transcript").hidden = true;
  }

  function attach(shared) {
    dock = shared;
    $("transcript-close").addEventListener("click", closeTranscript);
    $("transcript").addEventListener("keydown", (e) => {
      if (e.key === "Escape") {
        e.stopPropagation();
        closeTranscript();
      }
    });
    $("transcript-messages").addEventListener("scroll", () => {
      if ($("transcript-messages").scrollTop < 120) loadOlder();
    });
  }

  window.CXGearDock = window.CXGearDock || {};
  window.CXGearDock.search = { attach, query, found, reset, entry: (id) => known.get(id), describe, openTranscript, transcriptButton };
})();
