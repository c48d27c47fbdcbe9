/* The admin's form helpers, on top of plain inputs that work without them:
   - tags (skills, languages): chips, added on Enter or comma, removed with their button
     or Backspace; written back into the comma-separated field the server reads;
   - key and value rows (metadata): written back into the textarea as a JSON object;
   - Copy buttons (a channel's webhook URL), with a visible confirmation.
   Runs under the site's CSP: no inline script, no style attributes. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function labelOf(input) {
    const label = input.id && document.querySelector('label[for="' + input.id + '"]');
    return label ? label.textContent.replace(/:\s*$/, "").trim() : input.name;
  }

  function splitTags(text) {
    return text.split(/[,\n]/).map(function (s) { return s.trim(); }).filter(Boolean);
  }

  /* --- tags ------------------------------------------------------------------------ */

  function enhanceTags(input) {
    if (input.dataset.cxEnhanced) return;
    input.dataset.cxEnhanced = "1";
    const name = labelOf(input);
    const names = {};
    const suggestions = input.dataset.suggestions && document.getElementById(input.dataset.suggestions);
    if (suggestions) {
      suggestions.querySelectorAll("option").forEach(function (o) { names[o.value] = o.textContent; });
    }
    const box = el("div", "cx-tagbox");
    const chips = el("ul", "cx-chips");
    chips.setAttribute("aria-label", name + ", chosen");
    const entry = el("input", "cx-tag-entry");
    entry.type = "text";
    entry.autocomplete = "off";
    entry.id = (input.id || input.name) + "-entry";
    entry.placeholder = suggestions ? "Type a code, e.g. en, then Enter" : "Type, then Enter or comma";
    if (suggestions) entry.setAttribute("list", suggestions.id);
    const label = input.id && document.querySelector('label[for="' + input.id + '"]');
    if (label) label.htmlFor = entry.id;
    else entry.setAttribute("aria-label", name);
    let tags = [];

    function render() {
      chips.replaceChildren();
      tags.forEach(function (tag, index) {
        const chip = el("li", "cx-chip");
        const text = names[tag] ? tag + " (" + names[tag] + ")" : tag;
        chip.appendChild(el("span", "cx-chip-text", text));
        if (suggestions && !names[tag]) {
          chip.classList.add("cx-chip-unknown");
          chip.title = "Not a known language code";
        }
        const remove = el("button", "cx-chip-remove", "\u00d7");
        remove.type = "button";
        remove.setAttribute("aria-label", "Remove " + tag);
        remove.addEventListener("click", function () {
          tags.splice(index, 1);
          sync();
          entry.focus();
        });
        chip.appendChild(remove);
        chips.appendChild(chip);
      });
    }

    function sync() {
      input.value = tags.join(", ");
      render();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function add(text) {
      splitTags(text).forEach(function (tag) {
        tag = tag.toLowerCase();
        if (tags.indexOf(tag) === -1) tags.push(tag);
      });
      entry.value = "";
      sync();
    }

    entry.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();
        if (entry.value.trim()) add(entry.value);
      } else if (event.key === "Backspace" && entry.value === "" && tags.length) {
        tags.pop();
        sync();
      }
    });
    // A code picked from the suggestions list arrives whole, without a key press.
    entry.addEventListener("input", function (event) {
      const picked = !event.inputType || event.inputType === "insertReplacementText";
      if (suggestions && picked && names[entry.value.trim().toLowerCase()]) add(entry.value);
      else if (entry.value.indexOf(",") !== -1) add(entry.value);
    });
    // What is still typed when the form is sent is kept, not lost.
    entry.addEventListener("blur", function () { if (entry.value.trim()) add(entry.value); });
    if (input.form) input.form.addEventListener("submit", function () { if (entry.value.trim()) add(entry.value); });

    tags = [];
    add(input.value);
    input.hidden = true;
    box.appendChild(chips);
    box.appendChild(entry);
    input.insertAdjacentElement("afterend", box);
  }

  /* --- key and value rows ----------------------------------------------------------- */

  function rowsOf(text) {
    text = text.trim();
    if (!text) return [];
    if (text.charAt(0) === "{") {
      const value = JSON.parse(text); // a bad object is left to the textarea and the server
      if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not an object");
      return Object.keys(value).map(function (key) {
        const v = value[key];
        return typeof v === "string" ? [key, v, false] : [key, JSON.stringify(v), true];
      });
    }
    return text.split("\n").filter(function (l) { return l.trim(); }).map(function (line) {
      const at = line.indexOf(":");
      if (at === -1) throw new Error("not key: value");
      return [line.slice(0, at).trim(), line.slice(at + 1).trim(), false];
    });
  }

  function enhanceKeyValue(area) {
    if (area.dataset.cxEnhanced) return;
    let rows;
    try {
      rows = rowsOf(area.value);
    } catch (e) {
      return; // the server says what is wrong with it
    }
    area.dataset.cxEnhanced = "1";
    const name = labelOf(area);
    const box = el("div", "cx-kv");
    const table = el("table", "cx-kv-rows");
    const head = el("tr");
    head.appendChild(el("th", "", "Key"));
    head.appendChild(el("th", "", "Value"));
    head.appendChild(el("th", "", ""));
    const thead = el("thead");
    thead.appendChild(head);
    const body = el("tbody");
    table.appendChild(thead);
    table.appendChild(body);
    const problem = el("p", "errornote cx-kv-problem");
    problem.hidden = true;
    problem.setAttribute("role", "alert");
    const addButton = el("button", "button cx-kv-add", "Add a row");
    addButton.type = "button";

    function sync() {
      const value = {};
      body.querySelectorAll("tr").forEach(function (tr) {
        const key = tr.querySelector(".cx-kv-key").value.trim();
        const input = tr.querySelector(".cx-kv-value");
        if (!key && !input.value) return;
        let v = input.value;
        if (input.dataset.json) {
          try { v = JSON.parse(v); } catch (e) { /* kept as typed */ }
        }
        value[key] = v;
      });
      area.value = Object.keys(value).length ? JSON.stringify(value, null, 2) : "";
    }

    function problems() {
      const seen = {};
      let found = "";
      body.querySelectorAll("tr").forEach(function (tr) {
        const keyInput = tr.querySelector(".cx-kv-key");
        const key = keyInput.value.trim();
        const v = tr.querySelector(".cx-kv-value").value;
        if (found) return;
        if (!key && v) found = "Give every value a key.";
        else if (key && seen[key]) found = "The key \u201c" + key + "\u201d is used twice.";
        if (found) keyInput.focus();
        seen[key] = true;
      });
      return found;
    }

    function addRow(key, value, isJson) {
      const tr = el("tr");
      const keyCell = el("td");
      const keyInput = el("input", "vTextField cx-kv-key");
      keyInput.type = "text";
      keyInput.value = key;
      keyInput.setAttribute("aria-label", name + " key");
      keyCell.appendChild(keyInput);
      const valueCell = el("td");
      const valueInput = el("input", "vTextField cx-kv-value");
      valueInput.type = "text";
      valueInput.value = value;
      valueInput.setAttribute("aria-label", name + " value");
      if (isJson) {
        valueInput.dataset.json = "1";
        valueInput.title = "A JSON value, kept as JSON";
      }
      valueCell.appendChild(valueInput);
      const removeCell = el("td");
      const remove = el("button", "button cx-kv-remove", "Remove");
      remove.type = "button";
      function relabel() {
        remove.setAttribute("aria-label", "Remove the row " + (keyInput.value.trim() || "without a key"));
      }
      relabel();
      keyInput.addEventListener("input", relabel);
      remove.addEventListener("click", function () {
        tr.remove();
        sync();
      });
      removeCell.appendChild(remove);
      tr.appendChild(keyCell);
      tr.appendChild(valueCell);
      tr.appendChild(removeCell);
      [keyInput, valueInput].forEach(function (i) { i.addEventListener("input", sync); });
      body.appendChild(tr);
      return keyInput;
    }

    rows.forEach(function (r) { addRow(r[0], r[1], r[2]); });
    if (!rows.length) addRow("", "", false);
    addButton.addEventListener("click", function () { addRow("", "", false).focus(); });
    if (area.form) {
      area.form.addEventListener("submit", function (event) {
        const found = problems();
        problem.textContent = found;
        problem.hidden = !found;
        if (found) event.preventDefault();
        else sync();
      });
    }
    sync();
    area.hidden = true;
    box.appendChild(table);
    box.appendChild(addButton);
    box.appendChild(problem);
    area.insertAdjacentElement("afterend", box);
  }

  /* --- copy buttons ------------------------------------------------------------------ */

  function copy(button) {
    const status = button.parentElement.querySelector(".cx-copied");
    function say(text) {
      if (!status) return;
      status.textContent = text;
      clearTimeout(button.cxTimer);
      button.cxTimer = setTimeout(function () { status.textContent = ""; }, 4000);
    }
    if (!navigator.clipboard) {
      say("Select the URL and copy it");
      return;
    }
    navigator.clipboard.writeText(button.dataset.copy).then(
      function () { say("Copied"); },
      function () { say("Could not copy: select the URL and copy it"); }
    );
  }

  ready(function () {
    document.querySelectorAll("input.cx-tags").forEach(enhanceTags);
    document.querySelectorAll("textarea.cx-keyvalue").forEach(enhanceKeyValue);
    document.addEventListener("click", function (event) {
      const button = event.target.closest && event.target.closest(".cx-copy");
      if (button) copy(button);
    });
  });
})();
