// The dock's media: how a message's file shows in the thread (photos inline, stickers,
// video and audio players, documents to download, contact cards), and the composer's
// attachment (a button, drag and drop, pasting a picture; a preview before it is sent).
// Files come from the API (`media.url`, `/api/v1/media/<id>/`), which checks the agent
// may read the chat; an attachment is posted there as multipart with its caption. The
// dock (dock.js) asks `block(m)` for a message's media and hands a send over to
// `send(conversation, caption)` while `hasFile()`.
(() => {
  "use strict";

  const KB = 1024;
  const MB = 1024 * KB;
  // WhatsApp's types and limits (the server checks them again, naming `file`).
  const RULES = {
    "image/jpeg": ["image", 5 * MB],
    "image/png": ["image", 5 * MB],
    "image/webp": ["sticker", 500 * KB],
    "video/mp4": ["video", 16 * MB],
    "video/3gpp": ["video", 16 * MB],
    "audio/aac": ["audio", 16 * MB],
    "audio/amr": ["audio", 16 * MB],
    "audio/mpeg": ["audio", 16 * MB],
    "audio/mp4": ["audio", 16 * MB],
    "audio/ogg": ["audio", 16 * MB],
    "text/plain": ["document", 100 * MB],
    "application/pdf": ["document", 100 * MB],
    "application/msword": ["document", 100 * MB],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ["document", 100 * MB],
    "application/vnd.ms-excel": ["document", 100 * MB],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ["document", 100 * MB],
    "application/vnd.ms-powerpoint": ["document", 100 * MB],
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ["document", 100 * MB],
  };
  const KINDS = ["image", "video", "audio", "document", "sticker"];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function size(bytes) {
    const n = Number(bytes);
    if (!Number.isFinite(n) || n <= 0) return "";
    if (n >= MB) return `${(n / MB).toFixed(1).replace(/\.0$/, "")} MB`;
    if (n >= KB) return `${Math.round(n / KB)} KB`;
    return `${n} bytes`;
  }

  // Only our own media API: a message's url is never followed elsewhere.
  function ownMediaUrl(raw) {
    return typeof raw === "string" && /^\/api\/v1\/media\/\d+\/$/.test(raw) ? raw : null;
  }

  const baseType = (mime) => String(mime || "").split(";")[0].trim().toLowerCase();

  function typeLabel(m) {
    const media = m.media || {};
    if (m.type === "audio") return media.voice ? "Voice message" : "Audio";
    return { image: "Photo", video: "Video", document: "Document", sticker: "Sticker" }[m.type] || "File";
  }

  function card(m, note, { state = "" } = {}) {
    const media = m.media || {};
    const name = typeof media.filename === "string" && media.filename ? media.filename : typeLabel(m);
    const details = [media.filename ? typeLabel(m) : "", baseType(media.mime_type), size(media.size)].filter(Boolean).join(" · ");
    return el(
      "div",
      { class: `media media-card ${m.type}${state ? ` media-${state}` : ""}` },
      el("span", { class: "media-card-text" }, el("strong", { text: name }), details ? el("small", { text: details }) : null, note ? el("small", { class: "media-note", text: note }) : null),
    );
  }

  // A picture or a player grows the thread once it has loaded: an agent reading the end
  // of the thread stays at the end.
  function keepAtEnd(node, event) {
    node.addEventListener(event, () => {
      const list = node.closest(".messages");
      if (list && list.scrollHeight - list.scrollTop - list.clientHeight < node.offsetHeight + 120) list.scrollTop = list.scrollHeight;
    }, { once: true });
    return node;
  }

  function block(m) {
    const media = m.media || {};
    if (m.type === "contacts") return contacts(media.contacts);
    if (!KINDS.includes(m.type)) return null;
    const url = ownMediaUrl(media.url);
    if (media.state === "pending") return card(m, "Downloading…", { state: "pending" });
    if (media.state === "failed") return card(m, "This file could not be downloaded.", { state: "failed" });
    if (media.state === "not_kept") return card(m, `Not downloaded${media.error ? `: ${media.error}` : ""}.`, { state: "not-kept" });
    if (!url) return null; // an older message with only the platform's details: the dock's own card
    const label = typeLabel(m);
    if (m.type === "image" || m.type === "sticker") {
      const alt = m.text ? `${label}: ${m.text}` : label;
      const img = keepAtEnd(el("img", { src: url, alt, class: m.type === "sticker" ? "media-sticker" : "media-image" }), "load");
      if (m.type === "sticker") return el("div", { class: "media media-visual sticker" }, img);
      return el("div", { class: "media media-visual image" }, el("a", { href: url, target: "_blank", rel: "noopener", title: "Open full size", "aria-label": `${alt} (open full size)` }, img));
    }
    if (m.type === "video") {
      return el("div", { class: "media media-visual video" }, keepAtEnd(el("video", { src: url, controls: true, preload: "metadata", class: "media-video", "aria-label": label }), "loadedmetadata"));
    }
    if (m.type === "audio") {
      return el(
        "div",
        { class: "media media-audio" },
        el("span", { class: "media-audio-label", text: label }),
        el("audio", { src: url, controls: true, preload: "metadata", "aria-label": label }),
      );
    }
    const name = media.filename || `document-${m.id}`;
    const details = [baseType(media.mime_type), size(media.size)].filter(Boolean).join(" · ");
    return el(
      "div",
      { class: "media media-card document" },
      el("span", { class: "media-card-text" }, el("strong", { text: name }), details ? el("small", { text: details }) : null),
      el("a", { href: url, download: name, class: "media-download", text: "Download" }),
    );
  }

  function contacts(list) {
    if (!Array.isArray(list) || !list.length) return null;
    return el(
      "div",
      { class: "media media-contacts" },
      list.map((c) => {
        if (!c || typeof c !== "object") return null;
        const name = (c.name && (c.name.formatted_name || [c.name.first_name, c.name.last_name].filter(Boolean).join(" "))) || "Contact";
        const lines = [
          ...(Array.isArray(c.phones) ? c.phones.map((p) => p && p.phone) : []),
          ...(Array.isArray(c.emails) ? c.emails.map((e) => e && e.email) : []),
          c.org && c.org.company,
        ].filter((x) => typeof x === "string" && x);
        return el("div", { class: "contact-card" }, el("strong", { text: name }), lines.map((line) => el("small", { text: line })));
      }),
    );
  }

  // --- the composer's attachment -------------------------------------------------------

  let chosen = null; // {file, previewUrl}

  function check(file) {
    const rule = RULES[baseType(file.type)];
    if (!rule) return `WhatsApp does not take ${file.type || "this kind of"} files: send a JPEG or PNG picture, a video, an audio file, or a PDF or Office document.`;
    if (!file.size) return "The file is empty.";
    if (file.size > rule[1]) return `WhatsApp takes a ${rule[0]} of at most ${size(rule[1])}; this file is ${size(file.size)}.`;
    return "";
  }

  function showError(text) {
    const box = document.getElementById("composer-error");
    if (!box) return;
    box.textContent = text;
    box.hidden = !text;
  }

  function choose(file) {
    if (!file) return;
    const problem = check(file);
    if (problem) {
      showError(problem);
      return;
    }
    clear();
    showError("");
    const previewUrl = baseType(file.type).startsWith("image/") ? URL.createObjectURL(file) : null;
    chosen = { file, previewUrl };
    renderPreview();
  }

  function clear() {
    if (chosen && chosen.previewUrl) URL.revokeObjectURL(chosen.previewUrl);
    chosen = null;
    const input = document.getElementById("composer-file");
    if (input) input.value = "";
    renderPreview();
  }

  function renderPreview() {
    const box = document.getElementById("composer-attachment");
    if (!box) return;
    box.hidden = !chosen;
    if (!chosen) {
      box.replaceChildren();
      return;
    }
    const { file, previewUrl } = chosen;
    box.replaceChildren(
      previewUrl ? el("img", { src: previewUrl, alt: `Preview of ${file.name}`, class: "attachment-preview" }) : null,
      el("span", { class: "attachment-name" }, el("strong", { text: file.name || "Pasted picture" }), el("small", { text: [baseType(file.type), size(file.size)].filter(Boolean).join(" · ") })),
      el("button", { type: "button", class: "ghost attachment-remove", text: "Remove", "aria-label": `Remove ${file.name || "the attachment"}`, onclick: clear }),
    );
  }

  function csrfToken() {
    const field = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (field && field.value) return field.value;
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function send(conversation, caption) {
    if (!chosen) throw new Error("No file to send.");
    const form = new FormData();
    form.append("file", chosen.file, chosen.file.name || "picture.png");
    if (caption) form.append("text", caption);
    let response;
    try {
      response = await fetch(`/api/v1/conversations/${conversation}/messages/`, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
    } catch {
      throw new Error("The file could not be sent: the connection failed. Try again.");
    }
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    if (!response.ok) {
      const first = (v) => (Array.isArray(v) ? v[0] : v);
      throw new Error(first(data.file) || first(data.text) || data.detail || `The file could not be sent (${response.status}).`);
    }
    clear();
    return data;
  }

  function setUp() {
    const form = document.getElementById("composer");
    const text = document.getElementById("composer-text");
    if (!form || !text) return;
    const input = el("input", { type: "file", id: "composer-file", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true", accept: Object.keys(RULES).join(",") });
    input.addEventListener("change", () => choose(input.files && input.files[0]));
    const button = el("button", { type: "button", class: "ghost attach", id: "composer-attach", "aria-label": "Attach a file", title: "Attach a file (or drop it here, or paste a picture)", text: "Attach" });
    button.addEventListener("click", () => input.click());
    const preview = el("div", { class: "composer-attachment", id: "composer-attachment", role: "group", "aria-label": "Attachment" });
    preview.hidden = true;
    form.prepend(preview);
    text.before(button, input);

    text.addEventListener("paste", (e) => {
      const files = e.clipboardData ? [...e.clipboardData.files] : [];
      const picture = files.find((f) => baseType(f.type).startsWith("image/"));
      if (picture) {
        e.preventDefault();
        choose(picture);
      }
    });
    const zone = form.closest(".thread") || form;
    zone.addEventListener("dragover", (e) => {
      if (e.dataTransfer && [...e.dataTransfer.types].includes("Files")) {
        e.preventDefault();
        zone.classList.add("dropping");
      }
    });
    zone.addEventListener("dragleave", (e) => {
      if (!zone.contains(e.relatedTarget)) zone.classList.remove("dropping");
    });
    zone.addEventListener("drop", (e) => {
      zone.classList.remove("dropping");
      const file = e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files[0];
      if (!file) return;
      e.preventDefault();
      choose(file);
    });
  }

  window.CXGearDockMedia = { block, send, clear, hasFile: () => Boolean(chosen), choose };
  setUp();
})();
