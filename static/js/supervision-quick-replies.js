// The board's quick replies: the organization's list, added and deleted through the API
// (quick-replies/), as the admin and integrators keep them too.
(function () {
  "use strict";

  const table = document.querySelector("#quick-replies tbody");
  const form = document.getElementById("quick-reply-form");
  if (!table || !form) return;
  const URL = "/api/v1/quick-replies/";
  const projects = JSON.parse(document.getElementById("board-initial").textContent).projects;
  const error = document.getElementById("quick-reply-error");

  function el(tag, attrs, text) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value);
    }
    if (text !== undefined) node.textContent = text;
    return node;
  }

  const call = window.CXGearApi.request; // static/js/api.js

  const projectName = (id) => (id === null ? "Every project" : (projects.find((p) => p.id === id) || { name: `Project ${id}` }).name);

  async function load() {
    const replies = [];
    let next = URL;
    while (next) {
      const page = await call("GET", next);
      replies.push(...page.results);
      next = page.next;
    }
    table.replaceChildren(
      ...(replies.length
        ? replies.map((r) => {
            const row = el("tr");
            row.append(el("td", {}, `/${r.shortcut}`), el("td", {}, projectName(r.project)), el("td", { class: "text" }, r.text));
            const actions = el("td");
            actions.append(el("button", { type: "button", class: "link", "aria-label": `Delete /${r.shortcut}`, onclick: () => remove(r) }, "Delete"));
            row.append(actions);
            return row;
          })
        : [(() => {
            const row = el("tr");
            row.append(el("td", { class: "empty", colspan: "4" }, "No quick replies yet."));
            return row;
          })()]),
    );
  }

  async function remove(reply) {
    error.textContent = "";
    try {
      await call("DELETE", `${URL}${reply.id}/`);
    } catch (err) {
      error.textContent = err.message;
    }
    await load();
  }

  const select = document.getElementById("quick-reply-project");
  select.append(el("option", { value: "" }, "Every project"), ...projects.map((p) => el("option", { value: String(p.id) }, p.name)));

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    error.textContent = "";
    const body = {
      shortcut: document.getElementById("quick-reply-shortcut").value,
      text: document.getElementById("quick-reply-text").value,
      project: select.value ? Number(select.value) : null,
    };
    try {
      await call("POST", URL, body);
      form.reset();
      await load();
    } catch (err) {
      error.textContent = err.message;
    }
  });

  load().catch((err) => {
    error.textContent = err.message;
  });
})();
