// Templates in the dock's composer. Outside WhatsApp's 24-hour window only an approved
// template may be sent: the composer then offers the number's templates, a field for
// each placeholder of the chosen one and a live preview of what the customer will read.
// dock.js calls attach() once and render() whenever it draws the thread.
(() => {
  "use strict";

  const ns = (window.CXGearDock = window.CXGearDock || {});
  const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

  function attach({ request, el, onSent }) {
    const composer = document.getElementById("composer");
    const panel = document.getElementById("template-picker");
    if (!composer || !panel) return { render() {} };
    const lists = new Map(); // channel id -> Promise of its templates
    let shown = null; // the conversation the panel is built for
    let loaded = [];
    let chosen = null;
    let fields = [];

    const key = (t) => `${t.name}\u0000${t.language}`;

    function templatesOf(c) {
      if (!lists.has(c.channel)) {
        const loading = request("templates.list", { conversation: c.id }).then((data) => data.templates);
        loading.catch(() => lists.delete(c.channel));
        lists.set(c.channel, loading);
      }
      return lists.get(c.channel);
    }

    function render(c, closed) {
      composer.dataset.mode = c && closed ? "template" : "text";
      panel.hidden = !(c && closed);
      if (!c || !closed) {
        shown = null;
        return;
      }
      if (shown === c.id) return;
      shown = c.id;
      chosen = null;
      fields = [];
      panel.replaceChildren(el("p", { class: "template-loading", text: "Loading the approved templates…" }));
      templatesOf(c).then(
        (templates) => {
          if (shown !== c.id) return;
          loaded = templates;
          build(c);
        },
        (err) => {
          if (shown !== c.id) return;
          shown = null;
          panel.replaceChildren(el("p", { class: "template-error", role: "alert", text: err.message }));
        },
      );
    }

    function build(c) {
      if (!loaded.length) {
        panel.replaceChildren(el("p", { class: "template-empty", text: "This number has no approved templates yet; an admin can sync them." }));
        return;
      }
      const select = el(
        "select",
        { id: "template-choice", onchange: () => choose(c, select.value) },
        el("option", { value: "", text: "Choose a template…" }),
        ...loaded.map((t) => el("option", { value: key(t), text: `${t.name.replace(/_/g, " ")} · ${t.language.toUpperCase()}` })),
      );
      panel.replaceChildren(
        el("label", { for: "template-choice", text: "Template" }),
        select,
        el("div", { class: "template-fields", id: "template-fields" }),
        el("p", { class: "template-preview", id: "template-preview", "aria-live": "polite", "aria-label": "Preview" }),
        el("p", { class: "template-error", id: "template-error", role: "alert", hidden: true }),
        el("button", { type: "button", class: "primary", id: "template-send", disabled: true, text: "Send template", onclick: () => sendChosen(c) }),
      );
      if (loaded.length === 1) {
        select.value = key(loaded[0]);
        choose(c, select.value);
      }
    }

    function choose(c, value) {
      chosen = loaded.find((t) => key(t) === value) || null;
      const box = document.getElementById("template-fields");
      fields = chosen
        ? chosen.placeholders.map((name, i) =>
            el("input", {
              type: "text",
              id: `template-param-${i}`,
              maxlength: "1024",
              "aria-label": `Parameter {{${name}}}`,
              placeholder: `{{${name}}}`,
              oninput: preview,
              onkeydown: (e) => {
                if (e.key === "Enter") {
                  e.preventDefault();
                  sendChosen(c);
                }
              },
            }),
          )
        : [];
      box.replaceChildren(
        ...fields.map((input, i) => el("label", { class: "template-field" }, el("span", { text: `{{${chosen.placeholders[i]}}}` }), input)),
      );
      preview();
      if (fields.length) fields[0].focus();
    }

    function filled() {
      return fields.map((input) => input.value.trim());
    }

    function preview() {
      const node = document.getElementById("template-preview");
      const button = document.getElementById("template-send");
      if (!node || !button) return;
      if (!chosen) {
        node.textContent = "";
        button.disabled = true;
        return;
      }
      const values = new Map(chosen.placeholders.map((name, i) => [name, filled()[i]]));
      node.textContent = chosen.body.replace(PLACEHOLDER, (whole, name) => values.get(name) || whole);
      button.disabled = filled().some((v) => !v);
    }

    async function sendChosen(c) {
      if (!chosen || filled().some((v) => !v)) return;
      const button = document.getElementById("template-send");
      const error = document.getElementById("template-error");
      button.disabled = true;
      error.hidden = true;
      try {
        const data = await request("message.send", {
          conversation: c.id,
          template: { name: chosen.name, language: chosen.language, parameters: filled() },
        });
        for (const input of fields) input.value = "";
        preview();
        onSent(c.id, data.message);
      } catch (err) {
        error.textContent = err.message;
        error.hidden = false;
        button.disabled = false;
      }
    }

    return { render };
  }

  ns.templates = { attach };
})();
