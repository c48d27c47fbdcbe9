// The dock's presence and transfer helpers: Busy with a reason, the time in the state
// ticking beside it, what going Offline does to the agent's open chats, a notice naming
// the supervisor who changed the agent's presence, and the transfer dialog's colleagues
// with their load. dock.js owns the state and the socket and calls in through
// window.CXGearDock.presence.
(() => {
  "use strict";

  const LABELS = { available: "Available", busy: "Busy", offline: "Offline" };
  let ctx = null; // {root, state, setPresence, openDialog}
  let reasons = []; // [{id, name}] of the organization
  let reassignSeconds = 120;
  let dismissedSince = null; // the presence change whose notice the agent dismissed

  const $ = (id) => document.getElementById(id);

  function elapsed(iso) {
    const s = Math.max(0, Math.floor((Date.now() - Date.parse(iso)) / 1000));
    const two = (n) => String(n).padStart(2, "0");
    const h = Math.floor(s / 3600);
    return h ? `${h}:${two(Math.floor((s % 3600) / 60))}:${two(s % 60)}` : `${two(Math.floor(s / 60))}:${two(s % 60)}`;
  }

  function clock(date) {
    return date.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  function minutes(seconds) {
    return seconds % 60 === 0 && seconds >= 60 ? `${seconds / 60} minute${seconds === 60 ? "" : "s"}` : `${seconds} seconds`;
  }

  function openCount() {
    return ctx ? ctx.state.order.length : 0;
  }

  function chats(n) {
    return `${n} open chat${n === 1 ? "" : "s"}`;
  }

  // --- presence -----------------------------------------------------------------------

  function init(options) {
    ctx = options;
    for (const b of ctx.root.querySelectorAll("[data-presence]")) b.addEventListener("click", () => choose(b.dataset.presence));
    const busy = $("busy-dialog");
    busy.addEventListener("click", (e) => {
      const pick = e.target.closest("[data-reason]");
      if (!pick) return;
      busy.close();
      ctx.setPresence("busy", pick.dataset.reason ? Number(pick.dataset.reason) : null);
    });
    $("offline-confirm").addEventListener("click", () => {
      $("offline-dialog").close();
      ctx.setPresence("offline", null);
    });
    $("presence-notice-dismiss").addEventListener("click", () => {
      dismissedSince = ctx.state.presence ? ctx.state.presence.since : null;
      render();
    });
    setInterval(renderState, 1000);
  }

  // A click on a presence control: Busy asks why (when the organization keeps reasons),
  // Offline with open chats says what becomes of them first.
  function choose(status) {
    const current = ctx.state.presence || {};
    if (status === "busy" && reasons.length) {
      const list = $("busy-reasons");
      list.replaceChildren(
        ...reasons.map((r) => item(r.name, r.id, current.status === "busy" && current.reason === r.name)),
        item("No reason", "", current.status === "busy" && !current.reason),
      );
      ctx.openDialog($("busy-dialog"));
      return;
    }
    if (status === "offline" && current.status !== "offline" && openCount()) {
      const back = new Date(Date.now() + reassignSeconds * 1000);
      $("offline-what").textContent =
        `You have ${chats(openCount())}. If you are still Offline at ${clock(back)} ` +
        `(${minutes(reassignSeconds)} from now), they go back to the queue for your colleagues. ` +
        "Come back before then and they stay yours.";
      ctx.openDialog($("offline-dialog"));
      return;
    }
    if (status !== current.status || current.reason) ctx.setPresence(status, null);
  }

  function item(name, id, current) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = current ? "reason current" : "reason";
    button.dataset.reason = String(id);
    button.textContent = name;
    li.append(button);
    return li;
  }

  function snapshot(data) {
    reasons = data.busy_reasons || [];
    reassignSeconds = data.offline_reassign_seconds || 120;
  }

  // A presence.changed for this agent: a live one set by someone else is announced.
  function changed(presence, { live }) {
    if (live && presence.actor_name) dismissedSince = null;
  }

  function renderState() {
    if (!ctx) return;
    const p = ctx.state.presence;
    const node = $("presence-state");
    if (!p || !p.status || !p.since) {
      node.textContent = "";
      return;
    }
    node.textContent = [LABELS[p.status] || p.status, p.reason, elapsed(p.since)].filter(Boolean).join(" · ");
    const offline = $("presence-offline");
    const n = openCount();
    if (p.status === "offline" && n) {
      const back = new Date(Date.parse(p.since) + reassignSeconds * 1000);
      offline.textContent =
        back > Date.now()
          ? `Your ${chats(n)} go back to the queue at ${clock(back)} unless you are Available or Busy by then.`
          : `Your ${chats(n)} are going back to the queue.`;
      offline.hidden = false;
    } else {
      offline.hidden = true;
    }
  }

  function render() {
    if (!ctx) return;
    renderState();
    const p = ctx.state.presence;
    const notice = $("presence-notice");
    if (p && p.actor_name && p.since !== dismissedSince) {
      $("presence-notice-text").textContent = `${p.actor_name} set you ${LABELS[p.status] || p.status} at ${clock(new Date(p.since))}.`;
      notice.hidden = false;
    } else {
      notice.hidden = true;
    }
  }

  // --- transfer -----------------------------------------------------------------------

  // A colleague in the transfer dialog: their load, and what a transfer to them does.
  function transferOption(a) {
    const load = a.presence === "busy" ? `Busy${a.presence_reason ? ` · ${a.presence_reason}` : ""}, ${a.open_count} / ${a.max_open}` : a.room ? `${a.open_count} / ${a.max_open}` : `full, ${a.open_count} / ${a.max_open}`;
    const what = { now: "", waits: " — to them when they have room", over: " — lands now, over capacity" }[a.lands] || "";
    const option = document.createElement("option");
    option.value = String(a.id);
    option.textContent = `${a.name} (${load})${what}`;
    option.dataset.lands = a.lands;
    option.dataset.name = a.name;
    return option;
  }

  function transferHint(select) {
    const option = select.selectedOptions[0];
    const hint = $("transfer-hint");
    const lands = option ? option.dataset.lands : "";
    const name = option ? option.dataset.name : "";
    hint.textContent =
      lands === "waits"
        ? `${name} has no room now: the chat leaves you and waits for ${name}, who gets it as soon as they have room. If that takes too long, anyone may take it.`
        : lands === "over"
          ? `${name} has no room: as a supervisor you give them the chat now, over their capacity. It is recorded in the chat's history.`
          : "";
    hint.hidden = !hint.textContent;
  }

  // What the dock says once a transfer went through.
  function transferDone(conversation, select) {
    const option = select && !select.disabled ? select.selectedOptions[0] : null;
    if (conversation && conversation.status === "queued" && option && option.dataset.lands === "waits") return `Waiting for ${option.dataset.name} to have room.`;
    return "Transferred.";
  }

  window.CXGearDock = window.CXGearDock || {};
  window.CXGearDock.presence = { init, snapshot, changed, render, transferOption, transferHint, transferDone };
})();
