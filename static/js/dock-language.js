// The chat's language in the dock's context panel, as a small control: it shows where
// the language came from (detected, the default, a person) and lets the agent correct
// it (`conversation.language`); a queued chat is then routed again with it. dock.js
// calls render() with the active conversation and the node to fill.
window.CXGearDockLanguage = (() => {
  "use strict";

  let api = null;
  let languages = [];
  const SOURCES = { detected: "detected", default: "default", person: "set by a person" };

  function snapshot(data, dockApi) {
    api = dockApi;
    languages = data.languages || [];
  }

  function render(conversation, node) {
    if (!conversation || !node) return;
    const current = (conversation.language || "").toLowerCase();
    const select = document.createElement("select");
    select.id = "ctx-language-select";
    select.setAttribute("aria-label", "Language");
    for (const code of new Set([...languages, current].filter(Boolean))) {
      const option = document.createElement("option");
      option.value = code;
      option.textContent = code.toUpperCase();
      option.selected = code === current;
      select.append(option);
    }
    const source = document.createElement("small");
    source.className = "ctx-language-source";
    source.textContent = SOURCES[conversation.language_source] || "";
    select.addEventListener("change", async () => {
      if (!api) return;
      select.disabled = true;
      try {
        await api.request("conversation.language", { conversation: conversation.id, language: select.value });
      } catch (err) {
        source.textContent = err.message || "Not changed.";
      }
      select.disabled = false;
    });
    node.replaceChildren(select, source);
  }

  return { snapshot, render };
})();
