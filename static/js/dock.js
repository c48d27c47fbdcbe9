// The agent's dock. State arrives as a snapshot over /ws/dock/ and is kept current by
// events with a rising seq; after a reconnect the missed events are replayed onto the
// state the page already has. Everything renders from `state`; nothing reloads the page.
(() => {
  "use strict";

  const root = document.getElementById("dock");
  if (!root) return;
  // Features kept in their own files (static/js/dock-*.js), each attached at the end.
  const dockParts = window.CXGearDock || {};

  const $ = (id) => document.getElementById(id);
  const WAITING_LONG_SECONDS = 120;
  const WAITING_VERY_LONG_SECONDS = 300;
  // Older messages load when the agent scrolls this close to the top of a thread.
  const OLDER_WITHIN_PX = 200;
  const baseTitle = document.title;
  const presenceUI = window.CXGearDock.presence; // dock-presence.js

  const state = {
    me: null,
    presence: null,
    conversations: new Map(), // id -> conversation payload + last_message
    order: [], // conversation ids in list order
    threads: new Map(), // id -> {messages: Map, notes: [], context, hasMore, before, loadingOlder}
    active: null,
    lastSeq: null,
    fresh: new Set(), // chats with activity the agent has not looked at
    heartbeatSeconds: 20,
    windowHours: 24,
  };

  // --- socket -----------------------------------------------------------------------

  let socket = null;
  let retries = 0;
  let heartbeatTimer = null;
  let nextRequest = 1;
  const pending = new Map(); // request id -> {resolve, reject}
  let resyncing = null; // {snapshot, buffer, events} while a reconnect's replay is awaited

  function connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}${root.dataset.wsPath}`);
    setConnection("connecting");
    socket.addEventListener("open", () => {
      retries = 0;
    });
    socket.addEventListener("message", (e) => {
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      onFrame(frame);
    });
    socket.addEventListener("close", (e) => {
      clearInterval(heartbeatTimer);
      for (const { reject } of pending.values()) reject(new Error("The connection dropped; try again."));
      pending.clear();
      if (e.code === 4401) {
        location.assign(`${root.dataset.loginUrl}?next=${encodeURIComponent(location.pathname)}`);
        return;
      }
      if (e.code === 4403) {
        setConnection("offline", "No dock for this account");
        return;
      }
      if (e.code === 4410) {
        // Deactivated, or a new password: this session ended too.
        setConnection("offline", "Signed out");
        return;
      }
      setConnection("reconnecting");
      const delay = Math.min(10000, 400 * 2 ** retries) * (0.75 + Math.random() / 2);
      retries += 1;
      setTimeout(connect, delay);
    });
  }

  function send(frame) {
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(JSON.stringify(frame));
    return true;
  }

  function request(type, data = {}) {
    return new Promise((resolve, reject) => {
      const id = nextRequest++;
      if (!send({ type, id, ...data })) {
        reject(new Error("Not connected; the dock is reconnecting."));
        return;
      }
      pending.set(id, { resolve, reject });
    });
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "snapshot":
        onSnapshot(frame);
        break;
      case "resync":
        onResync(frame);
        break;
      case "reply":
      case "error": {
        const waiter = pending.get(frame.id);
        if (!waiter) return;
        pending.delete(frame.id);
        if (frame.ok) waiter.resolve(frame.data);
        else {
          const err = new Error(frame.error || "That did not work.");
          err.code = frame.code;
          waiter.reject(err);
        }
        break;
      }
      default:
        if (typeof frame.seq === "number") {
          if (resyncing) resyncing.buffer.push(frame);
          else applyEvent(frame, { live: true });
        }
    }
  }

  function onSnapshot(frame) {
    const data = frame.data;
    state.heartbeatSeconds = data.heartbeat_seconds || 20;
    state.windowHours = data.service_window_hours || 24;
    clearInterval(heartbeatTimer);
    heartbeatTimer = setInterval(() => send({ type: "heartbeat" }), state.heartbeatSeconds * 1000);
    setConnection("live");
    if (state.lastSeq === null || frame.seq < state.lastSeq) {
      adoptSnapshot(frame);
      return;
    }
    // A reconnect: replay what was missed onto what the page shows.
    resyncing = { snapshot: frame, buffer: [], events: [] };
    send({ type: "resync", id: "resync", after: state.lastSeq });
  }

  function adoptSnapshot(frame) {
    const data = frame.data;
    state.me = data.me;
    state.presence = data.presence;
    presenceUI.snapshot(data);
    state.lastSeq = frame.seq;
    const previous = state.conversations;
    state.conversations = new Map();
    state.order = [];
    for (const c of data.conversations) {
      upsertConversation(c);
      if (previous.size && !previous.has(c.id)) state.fresh.add(c.id);
    }
    if (state.active && !state.conversations.has(state.active)) state.active = null;
    state.threads.clear();
    for (const extension of [window.CXGearDockOffers, window.CXGearDockLanguage]) {
      if (extension) extension.snapshot(data, { request, state });
    }
    renderAll();
    if (state.active) loadThread(state.active);
    else if (state.order.length && window.innerWidth > 720) select(state.order[0]);
    prefetch();
  }

  function onResync(frame) {
    // A long replay comes in several frames; the last says no more.
    if (!resyncing) return;
    resyncing.events.push(...(frame.events || []));
    if (frame.more) return;
    const { snapshot, buffer, events } = resyncing;
    resyncing = null;
    // Too much was missed to replay (`snapshot`), or the replay does not start where the
    // page left off: the snapshot the dock connected with stands instead.
    const contiguous =
      !frame.snapshot &&
      (events.length ? events[0].seq <= state.lastSeq + 1 : snapshot.seq <= state.lastSeq);
    if (!contiguous) {
      adoptSnapshot(snapshot);
    } else {
      state.me = snapshot.data.me;
      state.presence = snapshot.data.presence;
      presenceUI.snapshot(snapshot.data);
      for (const event of events) applyEvent(event, { live: false });
    }
    for (const event of buffer) applyEvent(event, { live: true });
    renderAll();
  }

  // --- events -------------------------------------------------------------------------

  function applyEvent(event, { live }) {
    if (event.seq <= state.lastSeq) return;
    state.lastSeq = event.seq;
    alerting = live;
    const d = event.data || {};
    if (window.CXGearDockOffers) window.CXGearDockOffers.event(event);
    switch (event.type) {
      case "conversation.assigned":
      case "conversation.updated":
      case "conversation.transferred":
      case "conversation.closed":
        onConversation(event.type, d);
        break;
      case "message.created":
        onMessage(d);
        break;
      case "message.status":
      case "message.updated":
        onStatus(d);
        break;
      case "presence.changed":
        if (state.me && d.member === state.me.id) {
          state.presence = { ...state.presence, ...d };
          presenceUI.changed(d, { live });
        }
        renderPresence();
        break;
      case "member.updated":
        if (state.me && d.id === state.me.id) state.me = { ...state.me, max_open: d.max_open, skills: d.skills, languages: d.languages };
        renderPresence();
        break;
      case "sla.breached":
        if (d.conversation && state.conversations.has(d.conversation.id)) upsertConversation(d.conversation);
        break;
      default:
        break;
    }
    if (live) renderAll();
  }

  function isMine(c) {
    return state.me && c.agent === state.me.id && c.status === "assigned";
  }

  function onConversation(type, c) {
    const known = state.conversations.has(c.id);
    if (isMine(c)) {
      upsertConversation(c);
      if (!known) {
        state.fresh.add(c.id);
        notify({ id: c.id, kind: "new" });
        loadThread(c.id);
      }
      if (type === "conversation.transferred" && c.id === state.active) loadThread(c.id);
    } else if (known) {
      removeConversation(c.id);
      if (c.id === state.active) {
        const why =
          c.status === "closed"
            ? `Closed${c.outcome ? `: ${c.outcome}` : ""}.`
            : "This chat was handed on and is no longer yours.";
        leaveActive(why);
      }
    }
  }

  function onMessage(m) {
    const c = state.conversations.get(m.conversation);
    if (!c) return;
    if (m.direction === "note") {
      // A note is the team's: no reply, nothing unread, the customer still waits.
      const noted = state.threads.get(m.conversation);
      if (noted) noted.messages.set(m.id, m);
      if (m.conversation === state.active) renderThread({ stick: true });
      return;
    }
    c.last_message = { id: m.id, direction: m.direction, type: m.type, text: m.text, status: m.status, sent_at: m.sent_at };
    c.last_message_at = m.sent_at;
    if (m.direction === "in") {
      c.last_inbound_at = m.sent_at;
      if (!c.waiting_since) c.waiting_since = m.sent_at;
      if (looking(m.conversation)) markRead(m.conversation);
      else {
        c.unread_count = (c.unread_count || 0) + 1;
        state.fresh.add(m.conversation);
        notify({ id: m.conversation, kind: "message", text: preview(m) });
      }
    } else if (m.direction === "out") {
      c.waiting_since = null;
    }
    const thread = state.threads.get(m.conversation);
    if (thread) thread.messages.set(m.id, m);
    if (m.conversation === state.active) renderThread({ stick: true });
  }

  function onStatus(m) {
    const thread = state.threads.get(m.conversation);
    if (thread && thread.messages.has(m.id)) thread.messages.set(m.id, { ...thread.messages.get(m.id), ...m });
    const c = state.conversations.get(m.conversation);
    if (c && c.last_message && c.last_message.id === m.id) c.last_message.status = m.status;
    if (m.conversation === state.active) renderThread({ stick: false });
  }

  function upsertConversation(c) {
    const previous = state.conversations.get(c.id);
    const merged = { ...(previous || {}), ...c };
    if (!("last_message" in c) && previous) merged.last_message = previous.last_message;
    state.conversations.set(c.id, merged);
    if (!state.order.includes(c.id)) state.order.push(c.id);
  }

  function removeConversation(id) {
    state.conversations.delete(id);
    state.order = state.order.filter((x) => x !== id);
    state.fresh.delete(id);
    state.threads.delete(id);
  }

  // --- actions ------------------------------------------------------------------------

  function select(id, { focusComposer = false } = {}) {
    if (!state.conversations.has(id)) return;
    saveDraft();
    if (state.active !== id && window.CXGearDockMedia) window.CXGearDockMedia.clear();
    state.active = id;
    state.fresh.delete(id);
    root.dataset.view = "thread";
    $("composer-error").hidden = true;
    $("thread-notice").hidden = true;
    renderAll();
    renderThread({ stick: true });
    restoreDraft();
    const thread = state.threads.get(id);
    if (!thread) loadThread(id);
    const c = state.conversations.get(id);
    if (c && c.unread_count) markRead(id);
    if (focusComposer) $("composer-text").focus();
  }

  function toast(why) {
    const note = $("toast");
    note.textContent = why;
    note.hidden = false;
    setTimeout(() => (note.hidden = true), 5000);
  }

  function leaveActive(why) {
    const closedId = state.active;
    state.active = null;
    renderAll();
    if (why) toast(why);
    const next = state.order.find((x) => x !== closedId);
    if (next && window.innerWidth > 720) select(next);
    else root.dataset.view = "list";
  }

  const entryTime = (x) => Date.parse(x.sent_at || x.created_at);

  // A thread comes a page at a time, newest first: the first page with the chat's context,
  // older ones as the agent scrolls up (loadOlder).
  async function loadThread(id) {
    try {
      const data = await request("thread.load", { conversation: id });
      const messages = new Map(data.messages.map((m) => [m.id, m]));
      const known = state.threads.get(id);
      // Keep what arrived while the page was on its way, and sends still pending; what is
      // older than the page goes, and comes back with the older pages.
      const times = [...data.messages, ...data.notes].map(entryTime);
      const oldest = data.has_more && times.length ? Math.min(...times) : -Infinity;
      if (known) for (const [mid, m] of known.messages) if (!messages.has(mid) && entryTime(m) >= oldest) messages.set(mid, m);
      state.threads.set(id, {
        messages,
        notes: data.notes,
        context: data.context,
        hasMore: data.has_more,
        before: data.before,
        loadingOlder: false,
      });
      if (state.conversations.has(id)) {
        upsertConversation({ ...data.conversation, unread_count: state.conversations.get(id).unread_count });
        renderList();
      }
      if (id === state.active) {
        renderThread({ stick: true });
        renderContext();
      }
    } catch (err) {
      if (id === state.active) showNotice(err.message);
    }
  }

  async function loadOlder(id) {
    const thread = state.threads.get(id);
    if (!thread || !thread.hasMore || thread.loadingOlder) return;
    thread.loadingOlder = true;
    const before = thread.before;
    try {
      const data = await request("thread.load", { conversation: id, before });
      // A reload of the thread meanwhile starts its pages over.
      if (state.threads.get(id) !== thread || thread.before !== before) return;
      for (const m of data.messages) if (!thread.messages.has(m.id)) thread.messages.set(m.id, m);
      const noted = new Set(thread.notes.map((n) => n.id));
      thread.notes = [...data.notes.filter((n) => !noted.has(n.id)), ...thread.notes];
      thread.hasMore = data.has_more;
      thread.before = data.before;
    } catch (err) {
      if (id === state.active) showNotice(err.message);
      return;
    } finally {
      thread.loadingOlder = false;
    }
    if (id === state.active) renderThread({ stick: false, keepPlace: true });
  }

  function prefetch() {
    for (const id of state.order.slice(0, 12)) if (!state.threads.has(id)) loadThread(id);
  }

  function markRead(id) {
    const c = state.conversations.get(id);
    if (c) c.unread_count = 0;
    request("thread.read", { conversation: id }).catch(() => {});
    renderList();
    renderTitle();
  }

  async function sendMessage() {
    const box = $("composer-text");
    const text = box.value.trim();
    const id = state.active;
    const errorBox = $("composer-error");
    const attachment = window.CXGearDockMedia;
    if (id && attachment && attachment.hasFile()) {
      // A file with its caption goes through the API; its message arrives as an event.
      errorBox.hidden = true;
      try {
        await attachment.send(id, text);
        box.value = "";
        clearDraft(id);
        autosize();
      } catch (err) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
      return;
    }
    if (!text || !id) return;
    errorBox.hidden = true;
    const thread = state.threads.get(id) || { messages: new Map(), notes: [], context: null };
    state.threads.set(id, thread);
    const tempId = `pending-${nextRequest}`;
    const asNote = Boolean(dockParts.notes && dockParts.notes.noting());
    thread.messages.set(tempId, {
      id: tempId, conversation: id, direction: asNote ? "note" : "out", type: "text", text, status: asNote ? "" : "queued",
      sender: state.me && state.me.id, sent_at: new Date().toISOString(), pending: true,
    });
    box.value = "";
    clearDraft(id);
    autosize();
    renderThread({ stick: true });
    try {
      const data = await request(asNote ? "note.add" : "message.send", { conversation: id, text });
      thread.messages.delete(tempId);
      const m = data.message;
      if (!thread.messages.has(m.id)) thread.messages.set(m.id, m);
    } catch (err) {
      thread.messages.delete(tempId);
      if (state.active === id && !box.value) {
        box.value = text;
        autosize();
      } else {
        writeDraft(id, text);
      }
      if (state.active === id) {
        errorBox.textContent = err.message;
        errorBox.hidden = false;
      }
    }
    if (state.active === id) renderThread({ stick: true });
  }

  async function setPresence(status, reason = null) {
    const previous = state.presence;
    state.presence = { ...(state.presence || {}), status, actor: null, actor_name: null };
    renderPresence();
    try {
      const data = await request("presence.set", reason ? { status, reason } : { status });
      if (data && data.presence) state.presence = { ...state.presence, ...data.presence };
    } catch (err) {
      state.presence = previous;
      showNotice(err.message);
    }
    renderPresence();
  }

  // --- drafts: one per chat, kept across reloads --------------------------------------

  const draftKey = (id) => `cxgear.dock.${root.dataset.member}.draft.${id}`;
  function writeDraft(id, text) {
    try {
      if (text) localStorage.setItem(draftKey(id), text);
      else localStorage.removeItem(draftKey(id));
    } catch {
      /* storage may be unavailable; the draft then lives only in the box */
    }
  }
  function readDraft(id) {
    try {
      return localStorage.getItem(draftKey(id)) || "";
    } catch {
      return "";
    }
  }
  const clearDraft = (id) => writeDraft(id, "");
  function saveDraft() {
    if (state.active) writeDraft(state.active, $("composer-text").value);
  }
  function restoreDraft() {
    $("composer-text").value = state.active ? readDraft(state.active) : "";
    autosize();
  }

  // --- rendering ----------------------------------------------------------------------

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      // Through the CSSOM: the page's policy refuses style attributes.
      else if (k === "style") node.style.cssText = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const customerName = (c) => (c.contact && (c.contact.name || c.contact.wa_id || c.contact.user_id)) || `Chat ${c.id}`;
  const customerNumber = (contact) => (contact.wa_id ? `+${contact.wa_id.replace(/^\+/, "")}` : contact.user_id || "");

  function initials(name) {
    return name.split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join("") || "?";
  }

  function hue(id) {
    return (id * 137) % 360;
  }

  function ago(iso) {
    if (!iso) return "";
    const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
    if (s < 45) return "now";
    if (s < 3600) return `${Math.round(s / 60)}m`;
    if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
    return `${Math.floor(s / 86400)}d`;
  }

  // Since when the customer has waited for a reply (ms), or null: from their first
  // message after our last reply (`waiting_since`, kept by the server and by the message
  // events), else, before the thread told us, from their last message.
  function waitingSince(c) {
    if (c.waiting_since !== undefined) return c.waiting_since ? Date.parse(c.waiting_since) : null;
    if (!c.last_inbound_at) return null;
    const m = c.last_message;
    if (m && m.direction === "out" && Date.parse(m.sent_at) >= Date.parse(c.last_inbound_at)) return null;
    return Date.parse(c.last_inbound_at);
  }

  function waitingSeconds(c) {
    const since = waitingSince(c);
    return since === null ? 0 : Math.max(0, (Date.now() - since) / 1000);
  }

  function windowClosed(c) {
    if (!c.last_inbound_at) return true;
    return Date.now() - Date.parse(c.last_inbound_at) > state.windowHours * 3600 * 1000;
  }

  function preview(m) {
    if (!m) return "No messages yet";
    const label = m.type === "text" ? "" : mediaLabel(m.type) || m.type;
    const body = label ? (m.text ? `${label}: ${m.text}` : label) : m.text;
    return m.direction === "out" ? `You: ${body}` : body;
  }

  function mediaLabel(type) {
    return { template: "Template", image: "Photo", video: "Video", audio: "Voice message", voice: "Voice message", document: "Document", sticker: "Sticker", location: "Location", contacts: "Contact card", reaction: "Reaction", unsupported: "Unsupported message" }[type] || "";
  }

  // Small line icons: no emoji font is needed to tell a photo from a document.
  const ICONS = {
    image: "M4 5h16v14H4z M4 16l5-5 4 4 3-3 4 4 M15 9.5a1.5 1.5 0 1 0 0 .01",
    video: "M3 6h13v12H3z M16 10l5-3v10l-5-3",
    audio: "M12 3v11 M8 10v1a4 4 0 0 0 8 0v-1 M12 15v5",
    document: "M6 3h9l4 4v14H6z M14 3v5h5 M9 13h7 M9 17h7",
    location: "M12 21s-6-6.2-6-11a6 6 0 0 1 12 0c0 4.8-6 11-6 11z M12 10.5a1.5 1.5 0 1 0 0 .01",
    contacts: "M12 12a4 4 0 1 0 0-8 4 4 0 0 0 0 8z M4 21c1-4 4.5-6 8-6s7 2 8 6",
  };
  ICONS.voice = ICONS.audio;
  ICONS.sticker = ICONS.image;

  function icon(type) {
    const svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "media-icon");
    const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
    path.setAttribute("d", ICONS[type] || ICONS.document);
    svg.append(path);
    return svg;
  }

  // The agent is reading this chat now: what arrives in it is read as it comes.
  const looking = (id) => id === state.active && !document.hidden;

  function renderAll() {
    renderPresence();
    renderList();
    renderThread({ stick: false });
    renderContext();
    renderTitle();
  }

  function renderPresence() {
    const status = state.presence ? state.presence.status : null;
    for (const b of root.querySelectorAll("[data-presence]")) b.setAttribute("aria-pressed", String(b.dataset.presence === status));
    root.dataset.presence = status || "";
    if (state.me) {
      // A chat offered to the agent holds a place in their room too.
      const open = state.order.length + (window.CXGearDockOffers ? window.CXGearDockOffers.offers.size : 0);
      const max = state.me.max_open;
      $("capacity").textContent = `${open} / ${max} open`;
      $("capacity-meter").style.width = `${max ? Math.min(100, (open / max) * 100) : 100}%`;
      $("capacity").parentElement.dataset.full = String(open >= max);
    }
    presenceUI.render();
  }

  // --- the chat list: who waits longest first, then by last activity -----------------
  //
  // Rows are kept (one <li> per chat) and moved, never rebuilt: a row's content changes in
  // place, the row that holds the focus never moves (the others move around it), and the
  // row the agent was looking at keeps its place on screen when the list is scrolled.

  const rows = new Map(); // conversation id -> its <li>
  const slaOf = (c) => (window.CXGearDock && window.CXGearDock.sla ? window.CXGearDock.sla.status(c) : null);

  function activityOf(c) {
    return Date.parse(c.last_message_at || c.assigned_at || c.created_at) || 0;
  }

  function byUrgency(a, b) {
    const ca = state.conversations.get(a);
    const cb = state.conversations.get(b);
    const wa = waitingSince(ca);
    const wb = waitingSince(cb);
    if (wa !== null && wb !== null && wa !== wb) return wa - wb;
    if ((wa === null) !== (wb === null)) return wa === null ? 1 : -1;
    return activityOf(cb) - activityOf(ca) || a - b;
  }

  function rowContent(id) {
    const c = state.conversations.get(id);
    const name = customerName(c);
    const since = waitingSince(c);
    const wait = waitingSeconds(c);
    const sla = slaOf(c);
    const classes = ["chat"];
    if (id === state.active) classes.push("active");
    if (state.fresh.has(id)) classes.push("fresh");
    // A chat with a first-reply target shows its countdown instead of fixed thresholds.
    if (!c.sla_due_at) {
      if (wait > WAITING_VERY_LONG_SECONDS) classes.push("waiting-very-long");
      else if (wait > WAITING_LONG_SECONDS) classes.push("waiting-long");
    }
    if (sla) classes.push(`sla-${sla.phase}`);
    const unread = looking(id) ? 0 : c.unread_count || 0;
    const due = sla ? clock(c.sla_due_at) : "";
    const slaSpoken = sla ? { ok: `first reply due at ${due}`, amber: `first reply due soon, at ${due}`, red: "first reply overdue" }[sla.phase] : null;
    const described = [name, unread ? `${unread} unread` : null, wait ? `waiting ${ago(new Date(since).toISOString())}` : null, slaSpoken].filter(Boolean).join(", ");
    return {
      className: classes.join(" "),
      current: id === state.active,
      described,
      parts: [
        name,
        initials(name),
        hue(c.contact ? c.contact.id : id),
        c.last_inbound_at ? ago(c.last_inbound_at) : "",
        sla ? sla.label : "",
        sla ? sla.phase : "",
        preview(c.last_message),
        unread,
        c.project_name || "",
      ],
    };
  }

  function fillRow(li, id) {
    const button = li.firstChild;
    const row = rowContent(id);
    button.className = row.className;
    if (row.current) button.setAttribute("aria-current", "true");
    else button.removeAttribute("aria-current");
    button.setAttribute("aria-label", row.described);
    const signature = JSON.stringify(row.parts);
    if (li.dataset.signature === signature) return;
    li.dataset.signature = signature;
    const [name, letters, h, time, slaLabel, slaPhase, previewText, unread, project] = row.parts;
    button.replaceChildren(
      el("span", { class: "avatar", style: `--h:${h}`, "aria-hidden": "true", text: letters }),
      el(
        "span",
        { class: "chat-main" },
        el(
          "span",
          { class: "chat-top" },
          el("span", { class: "chat-name", text: name }),
          slaLabel ? el("span", { class: `sla ${slaPhase}`, title: "Time left to the first reply", text: slaLabel }) : null,
          el("span", { class: "chat-time", title: "Since the customer last wrote", text: time }),
        ),
        el("span", { class: "chat-bottom" }, el("span", { class: "chat-preview", text: previewText }), unread ? el("span", { class: "badge", text: unread > 99 ? "99+" : unread }) : null),
        el("span", { class: "chat-project", text: project }),
      ),
    );
  }

  function rowFor(id) {
    let li = rows.get(id);
    if (!li) {
      li = el("li", {}, el("button", { type: "button", class: "chat", "data-id": id, onclick: () => select(id, { focusComposer: true }) }));
      rows.set(id, li);
    }
    return li;
  }

  // Put `wanted` (rows, in order) into `list`, moving only rows out of place and never
  // `keep` (the row holding the focus): the rows before it go before it, the rest after.
  function placeRows(list, wanted, keep) {
    const at = keep ? wanted.indexOf(keep) : -1;
    if (at === -1) {
      let cursor = list.firstChild;
      for (const li of wanted) {
        if (li === cursor) cursor = cursor.nextSibling;
        else list.insertBefore(li, cursor);
      }
      return;
    }
    let previous = keep;
    for (const li of wanted.slice(at + 1)) {
      if (previous.nextSibling !== li) previous.after(li);
      previous = li;
    }
    let next = keep;
    for (const li of wanted.slice(0, at).reverse()) {
      if (next.previousSibling !== li) next.before(li);
      next = li;
    }
  }

  function renderList() {
    const list = $("chat-list");
    const scroller = list.closest(".chats") || list;
    state.order.sort(byUrgency);
    for (const [id, li] of rows) {
      if (!state.conversations.has(id)) {
        li.remove();
        rows.delete(id);
      }
    }
    const focused = document.activeElement && list.contains(document.activeElement) ? document.activeElement.closest("li") : null;
    // The agent's place: the focused row, else the first row in view, where it is now.
    let anchor = null;
    let anchorTop = 0;
    if (scroller.scrollTop > 0) {
      const top = scroller.getBoundingClientRect().top;
      anchor = focused || [...list.children].find((li) => li.getBoundingClientRect().bottom > top) || null;
      if (anchor) anchorTop = anchor.getBoundingClientRect().top;
    }
    const wanted = state.order.map((id) => {
      const li = rowFor(id);
      fillRow(li, id);
      return li;
    });
    placeRows(list, wanted, focused && wanted.includes(focused) ? focused : null);
    if (anchor && anchor.isConnected) scroller.scrollTop += anchor.getBoundingClientRect().top - anchorTop;
    $("chat-empty").hidden = state.order.length > 0 || !state.me;
  }

  function renderTitle() {
    let count = 0;
    for (const c of state.conversations.values()) if (!looking(c.id)) count += c.unread_count || 0;
    for (const id of state.fresh) {
      const c = state.conversations.get(id);
      if (c && !c.unread_count) count += 1;
    }
    document.title = count ? `(${count}) ${baseTitle}` : baseTitle;
  }

  function tick(m) {
    if (m.direction !== "out") return null;
    const marks = { queued: ["◷", "Queued"], sent: ["✓", "Sent"], delivered: ["✓✓", "Delivered"], read: ["✓✓", "Read"], failed: ["!", "Failed"] };
    const [glyph, label] = marks[m.status] || ["", m.status];
    const reason = m.status === "failed" && m.error ? ` — ${m.error.title || m.error.message || m.error.code || ""}` : "";
    return el("span", { class: `tick ${m.status}`, title: label + reason, "aria-label": label + reason, text: glyph });
  }

  // A message's URLs are the customer's words: only https: and our own paths (such as
  // /api/v1/media/…) may become links; javascript:, data:, http: and the rest stay text.
  function linkable(raw) {
    if (typeof raw !== "string" || !raw) return null;
    let url;
    try {
      url = new URL(raw, location.origin);
    } catch {
      return null;
    }
    if (url.protocol === "https:") return url.href;
    const ownPath = raw.startsWith("/") && !raw.startsWith("//") && !raw.startsWith("/\\");
    return ownPath && url.origin === location.origin ? url.href : null;
  }

  function mediaLink(raw, text) {
    const href = linkable(raw);
    if (href) return el("a", { href, target: "_blank", rel: "noopener noreferrer", text });
    return typeof raw === "string" && raw ? el("small", { class: "media-url", text: raw }) : null;
  }

  function mediaBlock(m) {
    // Files, players and contact cards: dock-media.js.
    const shown = window.CXGearDockMedia && window.CXGearDockMedia.block(m);
    if (shown) return shown;
    const media = m.media || {};
    if (m.type === "location") {
      const lat = Number(media.latitude);
      const lng = Number(media.longitude);
      const place = [media.name, media.address].filter((x) => typeof x === "string" && x).join(", ");
      const known = media.latitude != null && media.longitude != null && Number.isFinite(lat) && Number.isFinite(lng);
      return el(
        "div",
        { class: "media location" },
        icon("location"),
        el("span", {}, el("strong", { text: place || "Shared location" }), known ? el("small", { text: `${lat.toFixed(5)}, ${lng.toFixed(5)}` }) : null),
        known ? mediaLink(`https://www.openstreetmap.org/?mlat=${lat}&mlon=${lng}#map=17/${lat}/${lng}`, "Map") : null,
      );
    }
    if (!ICONS[m.type]) return null;
    const detail = media.filename || media.mime_type || "";
    return el(
      "div",
      { class: `media ${m.type}` },
      icon(m.type),
      el("span", {}, el("strong", { text: mediaLabel(m.type) }), detail ? el("small", { text: String(detail) }) : null),
      mediaLink(media.url, "Open"),
    );
  }

  function bodyText(m) {
    // A location's label is already in its card; an unsupported message says so.
    if (m.type === "location") return "";
    if (m.type === "contacts" && window.CXGearDockMedia) return "";
    if (m.type === "reaction") return m.text ? `Reacted ${m.text}` : "Removed a reaction";
    if (!m.text && !ICONS[m.type] && m.type !== "text") return `${mediaLabel(m.type) || m.type} (shown on the customer's phone only)`;
    return m.text;
  }

  function noteText(n) {
    const who = n.actor ? ` by ${n.actor}` : "";
    let line;
    if (n.kind === "transferred") line = n.to_agent ? `Transferred from ${n.from_agent || "the queue"} to ${n.to_agent}${who}${n.over_capacity ? " (over capacity)" : ""}` : n.waiting_for ? `Transferred to ${n.waiting_for} when they have room${who}` : `Sent back to the queue${who}`;
    else if (n.kind === "reassigned") line = `Reassigned from ${n.from_agent || "—"} to ${n.to_agent || "the queue"}${n.rule_label ? ` (${n.rule_label})` : ""}`;
    else if (n.kind === "assigned") line = `Assigned to ${n.to_agent || "—"}${n.rule_label && !n.note ? ` · ${n.rule_label}` : ""}`;
    else if (n.kind === "offered") line = `Offered to ${n.to_agent || "—"}`;
    else if (n.kind === "declined" || n.kind === "offer-expired" || n.kind === "updated") line = n.rule_label;
    else line = `Queued${n.rule_label ? ` · ${n.rule_label}` : ""}`;
    return n.note ? `${line}: “${n.note}”` : line;
  }

  function clock(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function dayLabel(iso) {
    const d = new Date(iso);
    const today = new Date();
    const yesterday = new Date(Date.now() - 86400000);
    if (d.toDateString() === today.toDateString()) return "Today";
    if (d.toDateString() === yesterday.toDateString()) return "Yesterday";
    return d.toLocaleDateString([], { weekday: "short", day: "numeric", month: "short" });
  }

  function renderThread({ stick, keepPlace = false }) {
    const id = state.active;
    const c = id ? state.conversations.get(id) : null;
    $("thread-empty").hidden = Boolean(c);
    $("thread-body").hidden = !c;
    if (!c) return;
    const name = customerName(c);
    $("thread-name").textContent = name;
    $("thread-sub").textContent = [c.contact ? customerNumber(c.contact) : "", c.project_name, c.language ? c.language.toUpperCase() : ""].filter(Boolean).join(" · ");
    $("composer-text").setAttribute("placeholder", `Reply to ${name}…  Enter sends, Shift+Enter new line`);
    const note = $("window-note");
    note.hidden = !windowClosed(c);
    note.textContent = "The customer last wrote more than 24 hours ago: WhatsApp only lets you send an approved template until they write again.";
    if (templatesUi) templatesUi.render(c, windowClosed(c));

    const list = $("messages");
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const fromBottom = list.scrollHeight - list.scrollTop;
    const thread = state.threads.get(id);
    if (!thread) {
      list.replaceChildren(el("li", { class: "loading", text: "Loading the conversation…" }));
      return;
    }
    const items = [
      ...[...thread.messages.values()].map((m) => ({ at: m.sent_at || m.created_at, m })),
      ...thread.notes.map((n) => ({ at: n.created_at, n })),
    ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
    const nodes = [];
    if (thread.hasMore) {
      nodes.push(
        el("li", { class: "older" }, el("button", { type: "button", class: "link", text: "Earlier messages", onclick: () => loadOlder(id) })),
      );
    }
    let day = null;
    for (const item of items) {
      const label = dayLabel(item.at);
      if (label !== day) {
        day = label;
        nodes.push(el("li", { class: "day", text: label }));
      }
      if (item.n) {
        nodes.push(el("li", { class: "system", text: noteText(item.n) }));
        continue;
      }
      const m = item.m;
      const side = m.direction === "note" ? "note" : m.direction === "out" ? "out" : "in";
      const classes = `msg ${side}${m.status === "failed" ? " failed" : ""}${m.pending ? " pending" : ""}`;
      nodes.push(
        el(
          "li",
          { class: classes, "data-id": m.id },
          el(
            "div",
            { class: "bubble" },
            side === "note" && dockParts.notes ? dockParts.notes.label(m) : null,
            mediaBlock(m),
            m.type === "template" ? el("small", { class: "template-tag", text: "Template" }) : null,
            bodyText(m) ? el("p", { class: "text", text: bodyText(m) }) : null,
            el("span", { class: "meta" }, el("time", { datetime: m.sent_at, text: clock(m.sent_at) }), tick(m)),
          ),
          m.reaction ? el("span", { class: "reaction", role: "img", "aria-label": `Customer reacted ${m.reaction}`, text: m.reaction }) : null,
          m.status === "failed" && m.error ? el("p", { class: "fail-reason", text: `Not delivered: ${m.error.title || m.error.message || JSON.stringify(m.error)}` }) : null,
        ),
      );
    }
    if (!nodes.length) nodes.push(el("li", { class: "system", text: "No messages yet." }));
    list.replaceChildren(...nodes);
    // Older messages added above keep what the agent was reading where it was.
    if (keepPlace) list.scrollTop = list.scrollHeight - fromBottom;
    else if (stick || nearBottom) list.scrollTop = list.scrollHeight;
    // A page too short to scroll brings the next one at once.
    if (thread.hasMore && list.clientHeight > 0 && list.scrollTop < OLDER_WITHIN_PX) loadOlder(id);
  }

  function renderContext() {
    const id = state.active;
    const thread = id ? state.threads.get(id) : null;
    const ctx = thread && thread.context;
    $("context-empty").hidden = Boolean(ctx);
    $("context-body").hidden = !ctx;
    if (!ctx) return;
    const contact = ctx.contact;
    $("ctx-name").textContent = contact.name || "Unnamed customer";
    $("ctx-number").textContent = customerNumber(contact) || "hidden";
    $("ctx-language").textContent = contact.language ? contact.language.toUpperCase() : "unknown";
    if (window.CXGearDockLanguage) window.CXGearDockLanguage.render(state.conversations.get(id), $("ctx-language"));
    $("ctx-history").replaceChildren(
      ...(ctx.earlier.length
        ? ctx.earlier.map((e) =>
            el(
              "li",
              {},
              el("span", { class: "when", text: new Date(e.closed_at || e.created_at).toLocaleDateString([], { day: "numeric", month: "short", year: "numeric" }) }),
              el("span", { class: `outcome ${e.status}`, text: e.status === "closed" ? e.outcome || "Closed" : e.status }),
              el("small", { text: [e.project_name, e.agent_name].filter(Boolean).join(" · ") }),
              dockParts.search ? dockParts.search.transcriptButton(e, contact) : null,
            ),
          )
        : [el("li", { class: "none", text: "First conversation with this customer." })]),
    );
    $("ctx-project").textContent = ctx.project.name;
    const meta = ctx.project.metadata || {};
    $("ctx-metadata").replaceChildren(
      ...Object.entries(meta).flatMap(([k, v]) => [
        el("dt", { text: k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, " ") }),
        el("dd", { text: typeof v === "object" ? JSON.stringify(v) : String(v) }),
      ]),
    );
    const ch = ctx.channel;
    $("ctx-channel").textContent = [ch.kind_label, ch.display_phone_number].filter(Boolean).join(" · ");
  }

  function setConnection(kind, text) {
    const node = $("connection");
    node.dataset.state = kind;
    node.textContent = text || { live: "Live", connecting: "Connecting…", reconnecting: "Reconnecting…", offline: "Offline" }[kind];
  }

  function showNotice(text) {
    const node = $("thread-notice");
    node.textContent = text;
    node.hidden = false;
  }

  // Work the agent is not looking at: the title counts it, and (live events only, not a
  // reconnect's replay) static/js/dock-alerts.js chimes and notifies as the agent chose.
  let alerting = true;
  function notify({ id, kind, text = "" }) {
    renderTitle();
    const alerts = window.CXGearDock && window.CXGearDock.alerts;
    const c = state.conversations.get(id);
    if (!alerting || !alerts || !c || looking(id)) return;
    alerts.alert({ conversation: id, name: customerName(c), text, kind });
  }

  // --- composer ---------------------------------------------------------------------

  function autosize() {
    const box = $("composer-text");
    box.style.height = "auto";
    box.style.height = `${Math.min(box.scrollHeight, 180)}px`;
  }

  $("messages").addEventListener("scroll", () => {
    if (state.active && $("messages").scrollTop < OLDER_WITHIN_PX) loadOlder(state.active);
  });

  $("composer").addEventListener("submit", (e) => {
    e.preventDefault();
    sendMessage();
  });
  $("composer-text").addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage();
    }
  });
  $("composer-text").addEventListener("input", () => {
    autosize();
    saveDraft();
    typing();
  });

  // The customer sees the agent typing: a frame every few seconds at most (the server
  // sends the indicator at most every 20 s per chat).
  let typingAt = { id: null, at: 0 };
  function typing() {
    const id = state.active;
    if (!id || (typingAt.id === id && Date.now() - typingAt.at < 5000)) return;
    typingAt = { id, at: Date.now() };
    send({ type: "typing", conversation: id });
  }

  // Outside the 24-hour window the composer offers templates (dock-templates.js).
  function addSent(id, m) {
    const thread = state.threads.get(id);
    if (thread && !thread.messages.has(m.id)) thread.messages.set(m.id, m);
    if (state.active === id) renderThread({ stick: true });
  }
  const templatesUi = window.CXGearDock && window.CXGearDock.templates ? window.CXGearDock.templates.attach({ request, el, onSent: addSent }) : null;

  // --- presence, close, transfer ------------------------------------------------------

  presenceUI.init({ root, state, setPresence, openDialog: (d) => openDialog(d) });

  function openDialog(dialog) {
    const error = dialog.querySelector(".dialog-error");
    if (error) error.hidden = true;
    dialog.showModal();
  }
  for (const dialog of root.querySelectorAll("dialog")) {
    for (const cancel of dialog.querySelectorAll("[data-cancel]")) cancel.addEventListener("click", () => dialog.close());
  }
  function dialogError(dialog, message) {
    const node = dialog.querySelector(".dialog-error");
    node.textContent = message;
    node.hidden = false;
  }

  $("close-open").addEventListener("click", () => {
    $("close-outcome").value = "";
    openDialog($("close-dialog"));
  });
  $("close-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const dialog = $("close-dialog");
    const id = state.active;
    const outcome = $("close-outcome").value.trim();
    if (!outcome) return dialogError(dialog, "Choose or type an outcome.");
    try {
      await request("conversation.close", { conversation: id, outcome });
      dialog.close();
      clearDraft(id);
      if (state.conversations.has(id)) removeConversation(id);
      if (state.active === id) leaveActive(`Closed: ${outcome}.`);
    } catch (err) {
      dialogError(dialog, err.message);
    }
  });

  $("transfer-open").addEventListener("click", async () => {
    const dialog = $("transfer-dialog");
    $("transfer-note").value = "";
    const agents = $("transfer-agent");
    const skills = $("transfer-skill");
    agents.replaceChildren(el("option", { value: "", text: "Loading…" }));
    openDialog(dialog);
    try {
      const data = await request("agents.available", { conversation: state.active });
      agents.replaceChildren(
        ...(data.agents.length ? data.agents.map(presenceUI.transferOption) : [el("option", { value: "", text: "No colleague works this chat's project now" })]),
      );
      skills.replaceChildren(el("option", { value: "", text: "Any skill" }), ...data.skills.map((s) => el("option", { value: s, text: s })));
      dialog.querySelector(`input[value="${data.agents.length ? "agent" : "queue"}"]`).checked = true;
      syncTransferTarget();
    } catch (err) {
      dialogError(dialog, err.message);
    }
  });
  function syncTransferTarget() {
    const toQueue = $("transfer-dialog").querySelector('input[name="target"]:checked').value === "queue";
    $("transfer-agent").disabled = toQueue;
    $("transfer-skill").disabled = !toQueue;
    if (toQueue) $("transfer-hint").hidden = true;
    else presenceUI.transferHint($("transfer-agent"));
  }
  for (const radio of $("transfer-dialog").querySelectorAll('input[name="target"]')) radio.addEventListener("change", syncTransferTarget);
  $("transfer-agent").addEventListener("change", syncTransferTarget);
  $("transfer-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const dialog = $("transfer-dialog");
    const id = state.active;
    const toQueue = dialog.querySelector('input[name="target"]:checked').value === "queue";
    const frame = { conversation: id, note: $("transfer-note").value.trim() };
    if (toQueue) {
      if ($("transfer-skill").value) frame.skill = $("transfer-skill").value;
    } else {
      const agent = Number($("transfer-agent").value);
      if (!agent) return dialogError(dialog, "Pick a colleague, or send the chat back to the queue.");
      frame.agent = agent;
    }
    try {
      const done = await request("conversation.transfer", frame);
      dialog.close();
      clearDraft(id);
      if (state.conversations.has(id)) removeConversation(id);
      const why = presenceUI.transferDone(done && done.conversation, $("transfer-agent"));
      if (state.active === id) leaveActive(why);
      else toast(why); // its event came first and took it off the screen
    } catch (err) {
      dialogError(dialog, err.message);
    }
  });

  // --- switching: click, keys, quick switcher ------------------------------------------

  function step(delta) {
    if (!state.order.length) return;
    const at = state.order.indexOf(state.active);
    const next = at === -1 ? 0 : (at + delta + state.order.length) % state.order.length;
    select(state.order[next]);
    const button = root.querySelector(`.chat[data-id="${state.order[next]}"]`);
    if (button && document.activeElement && document.activeElement.classList.contains("chat")) button.focus();
  }

  document.addEventListener("keydown", (e) => {
    const typing = e.target.closest && e.target.closest("textarea, input, select");
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
      e.preventDefault();
      openSwitcher();
    } else if (e.key === "Escape" && root.dataset.details === "open" && !document.querySelector("dialog[open]")) {
      showDetails(false);
    } else if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      step(e.key === "ArrowUp" ? -1 : 1);
    } else if (!typing && !document.querySelector("dialog[open]") && (e.key === "ArrowUp" || e.key === "ArrowDown")) {
      e.preventDefault();
      step(e.key === "ArrowUp" ? -1 : 1);
    }
  });

  let switcherPick = 0;
  // Open chats matched here by name, then (dock-search.js) every conversation of the
  // agent's that the server finds by name, number or a word of its thread.
  function switcherMatches() {
    const q = $("switcher-input").value.trim().toLowerCase();
    const open = state.order.filter((id) => {
      const c = state.conversations.get(id);
      const hay = `${customerName(c)} ${c.contact ? c.contact.wa_id || "" : ""} ${c.project_name || ""}`.toLowerCase();
      return !q || hay.includes(q);
    });
    const found = dockParts.search ? dockParts.search.found(q).filter((c) => !open.includes(c.id)) : [];
    return [...open, ...found.map((c) => c.id)];
  }
  const switcherEntry = (id) => state.conversations.get(id) || (dockParts.search && dockParts.search.entry(id));
  function renderSwitcher() {
    const matches = switcherMatches();
    switcherPick = Math.min(switcherPick, Math.max(0, matches.length - 1));
    const picked = matches[switcherPick];
    if (picked !== undefined) $("switcher-input").setAttribute("aria-activedescendant", `switcher-option-${picked}`);
    else $("switcher-input").removeAttribute("aria-activedescendant");
    $("switcher-results").replaceChildren(
      ...matches.map((id, i) => {
        const c = switcherEntry(id);
        const open = state.conversations.has(id);
        return el(
          "li",
          { role: "option", id: `switcher-option-${id}`, "aria-selected": String(i === switcherPick), class: open ? null : "history", onmousedown: (ev) => { ev.preventDefault(); pickSwitcher(id); } },
          el("span", { text: customerName(c) }),
          el("small", { text: open ? preview(c.last_message) : dockParts.search.describe(c) }),
        );
      }),
    );
  }
  function openSwitcher() {
    if (dockParts.search) dockParts.search.reset();
    $("switcher-input").value = "";
    switcherPick = 0;
    renderSwitcher();
    $("switcher").showModal();
    $("switcher-input").focus();
  }
  function pickSwitcher(id) {
    $("switcher").close();
    if (state.conversations.has(id)) select(id, { focusComposer: true });
    else if (dockParts.search) dockParts.search.openTranscript(id);
  }
  $("switcher-open").addEventListener("click", openSwitcher);
  $("switcher-input").addEventListener("input", () => {
    switcherPick = 0;
    renderSwitcher();
    if (dockParts.search) dockParts.search.query($("switcher-input").value);
  });
  $("switcher-input").addEventListener("keydown", (e) => {
    const matches = switcherMatches();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      e.stopPropagation();
      switcherPick = (switcherPick + (e.key === "ArrowDown" ? 1 : -1) + matches.length) % Math.max(1, matches.length);
      renderSwitcher();
    } else if (e.key === "Enter") {
      e.preventDefault();
      if (matches[switcherPick] !== undefined) pickSwitcher(matches[switcherPick]);
    }
  });

  // --- narrow screens -----------------------------------------------------------------

  $("back").addEventListener("click", () => {
    saveDraft();
    root.dataset.view = "list";
  });
  function showDetails(open) {
    root.dataset.details = open ? "open" : "";
    $("details-toggle").setAttribute("aria-expanded", String(open));
    if (open) $("details-close").focus();
  }
  $("details-toggle").addEventListener("click", () => showDetails(root.dataset.details !== "open"));
  $("details-close").addEventListener("click", () => {
    showDetails(false);
    $("details-toggle").focus();
  });

  document.addEventListener("visibilitychange", () => {
    if (!document.hidden && state.active) {
      state.fresh.delete(state.active);
      const c = state.conversations.get(state.active);
      if (c && c.unread_count) markRead(state.active);
      renderTitle();
    }
  });

  // Times since the customer wrote move on without any event; first-reply countdowns
  // every second while one runs.
  setInterval(() => {
    if (state.me) {
      renderList();
    }
  }, 15000);
  setInterval(() => {
    if (state.me && [...state.conversations.values()].some((c) => c.sla_due_at && !c.first_reply_at)) renderList();
  }, 1000);

  root.append(el("div", { id: "toast", class: "toast", role: "status", hidden: true }));
  if (window.CXGearDock && window.CXGearDock.alerts) window.CXGearDock.alerts.onPick = (id) => select(id, { focusComposer: true });
  window.cxDock = { state };
  const shared = { state, request, select, el, root, noteText, bodyText, clock, dayLabel, customerName, customerNumber, renderThread, renderSwitcher, autosize, saveDraft };
  for (const part of Object.values(dockParts)) if (part && part.attach) part.attach(shared);
  connect();
})();
