// The composer's tools: the Note mode (an internal note for the team, never sent to the
// customer) and quick replies (type "/" at the start of the composer, pick one, and its
// text comes in with its placeholders filled from the chat). Attached by dock.js.
(() => {
  "use strict";

  let dock = null;
  let noteMode = false;
  let replies = null; // [{id, shortcut, text, project}] once loaded
  let loadedAt = 0;
  let loading = null;
  let picker = { open: false, matches: [], pick: 0 };
  const RELOAD_AFTER_MS = 60000;
  const MAX_SHOWN = 8;

  const $ = (id) => document.getElementById(id);

  // --- note mode ----------------------------------------------------------------------

  function setNoteMode(on) {
    noteMode = on;
    const toggle = $("note-toggle");
    toggle.setAttribute("aria-pressed", String(on));
    $("composer").classList.toggle("note-mode", on);
    $("composer-mode").textContent = on ? "Internal note: only your team sees it, the customer never does." : "";
    $("composer-mode").hidden = !on;
    dock.root.querySelector("#composer .send").textContent = on ? "Add note" : "Send";
  }

  function label(m) {
    const mine = dock.state.me && m.sender === dock.state.me.id;
    return dock.el("span", { class: "note-label", text: mine ? "Internal note · you" : "Internal note" });
  }

  // --- quick replies ------------------------------------------------------------------

  async function loadReplies() {
    if (replies && Date.now() - loadedAt < RELOAD_AFTER_MS) return replies;
    if (!loading) {
      loading = dock
        .request("quick_replies.list")
        .then((data) => {
          replies = data.quick_replies;
          loadedAt = Date.now();
          return replies;
        })
        .finally(() => {
          loading = null;
        });
    }
    return replies || loading;
  }

  function activeChat() {
    return dock.state.active ? dock.state.conversations.get(dock.state.active) : null;
  }

  // Placeholders a quick reply may hold; one the chat cannot fill stays as written, so
  // the agent sees it before sending.
  function fill(text, chat) {
    const thread = dock.state.threads.get(chat.id);
    const context = thread && thread.context;
    const customer = (context && context.contact) || chat.contact || {};
    const project = (context && context.project) || { name: chat.project_name, metadata: {} };
    const me = dock.state.me || {};
    const first = (name) => (name || "").trim().split(/\s+/)[0] || "";
    const values = {
      "customer.name": customer.name,
      "customer.first_name": first(customer.name),
      "agent.name": me.name,
      "agent.first_name": first(me.name),
      "project.name": project.name,
    };
    return text.replace(/\{\s*([a-z_]+)\.([^{}\s]+)\s*\}/gi, (whole, scope, key) => {
      const name = `${scope.toLowerCase()}.${key}`;
      let value = values[name];
      if (value === undefined && scope.toLowerCase() === "project") {
        const meta = project.metadata || {};
        value = meta[key];
        if (value !== null && typeof value === "object") value = undefined;
      }
      return value === undefined || value === null || value === "" ? whole : String(value);
    });
  }

  // "/" and a word at the very start of the composer, the caret still in that word.
  function typedShortcut() {
    const box = $("composer-text");
    const upToCaret = box.value.slice(0, box.selectionStart);
    const match = /^\/([^\s/]*)$/.exec(upToCaret);
    return match ? match[1].toLowerCase() : null;
  }

  function matchesFor(query, chat) {
    const usable = (replies || []).filter((r) => r.project === null || r.project === chat.project);
    const starts = usable.filter((r) => r.shortcut.startsWith(query));
    const within = usable.filter((r) => !r.shortcut.startsWith(query) && (r.shortcut.includes(query) || r.text.toLowerCase().includes(query)));
    return [...starts, ...within].slice(0, MAX_SHOWN);
  }

  function closePicker() {
    picker = { open: false, matches: [], pick: 0 };
    const box = $("composer-text");
    box.removeAttribute("aria-activedescendant");
    $("quick-replies").hidden = true;
  }

  function renderPicker() {
    const box = $("composer-text");
    const list = $("quick-replies");
    const chat = activeChat();
    if (!picker.open || !chat) return closePicker();
    list.hidden = false;
    if (!picker.matches.length) {
      box.removeAttribute("aria-activedescendant");
      list.replaceChildren(dock.el("li", { class: "none", role: "presentation", text: replies ? "No quick reply matches." : "Loading quick replies…" }));
      return;
    }
    picker.pick = Math.min(picker.pick, picker.matches.length - 1);
    box.setAttribute("aria-activedescendant", `quick-reply-${picker.matches[picker.pick].id}`);
    list.replaceChildren(
      ...picker.matches.map((r, i) =>
        dock.el(
          "li",
          {
            role: "option",
            id: `quick-reply-${r.id}`,
            "aria-selected": String(i === picker.pick),
            onmousedown: (e) => {
              e.preventDefault();
              insert(r);
            },
          },
          dock.el("span", { class: "shortcut", text: `/${r.shortcut}` }),
          dock.el("span", { class: "preview", text: fill(r.text, chat) }),
        ),
      ),
    );
    const picked = list.querySelector('[aria-selected="true"]');
    if (picked && picked.scrollIntoView) picked.scrollIntoView({ block: "nearest" });
  }

  async function refreshPicker() {
    const query = typedShortcut();
    const chat = activeChat();
    if (query === null || !chat) return closePicker();
    picker.open = true;
    picker.matches = matchesFor(query, chat);
    renderPicker();
    if (!replies || Date.now() - loadedAt >= RELOAD_AFTER_MS) {
      try {
        await loadReplies();
      } catch {
        return;
      }
      if (picker.open && typedShortcut() === query) {
        picker.matches = matchesFor(query, chat);
        renderPicker();
      }
    }
  }

  function insert(reply) {
    const chat = activeChat();
    const box = $("composer-text");
    if (!chat) return;
    const rest = box.value.slice(box.selectionStart).replace(/^\S*/, "");
    const text = fill(reply.text, chat);
    box.value = text + rest;
    box.setSelectionRange(text.length, text.length);
    closePicker();
    box.focus();
    dock.autosize();
    dock.saveDraft();
  }

  // Captured on the form, before the composer's own keys (Enter sends): while the list
  // is open, the arrows, Enter, Tab and Escape belong to it.
  function onKeydown(e) {
    if (e.target.id !== "composer-text") return;
    // Alt+N: Ctrl+Shift+N belongs to the browser (a private window), never to the page.
    if (e.altKey && !e.ctrlKey && !e.metaKey && e.code === "KeyN") {
      e.preventDefault();
      e.stopPropagation();
      setNoteMode(!noteMode);
      return;
    }
    if (!picker.open) return;
    const count = picker.matches.length;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      e.stopPropagation();
      if (count) picker.pick = (picker.pick + (e.key === "ArrowDown" ? 1 : -1) + count) % count;
      renderPicker();
    } else if ((e.key === "Enter" || e.key === "Tab") && !e.shiftKey && count) {
      e.preventDefault();
      e.stopPropagation();
      insert(picker.matches[picker.pick]);
    } else if (e.key === "Escape") {
      e.preventDefault();
      e.stopPropagation();
      closePicker();
    }
  }

  function attach(shared) {
    dock = shared;
    const box = $("composer-text");
    box.setAttribute("aria-autocomplete", "list");
    box.setAttribute("aria-controls", "quick-replies");
    $("composer").addEventListener("keydown", onKeydown, true);
    box.addEventListener("input", refreshPicker);
    box.addEventListener("click", refreshPicker);
    box.addEventListener("blur", () => setTimeout(closePicker, 100));
    $("note-toggle").addEventListener("click", () => {
      setNoteMode(!noteMode);
      box.focus();
    });
  }

  window.CXGearDock = window.CXGearDock || {};
  window.CXGearDock.notes = { attach, noting: () => noteMode, label, fill };
})();
