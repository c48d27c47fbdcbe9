// Offers in the dock: a chat routing offers to this agent (a project with an offer time)
// waits above the chat list with Accept, Decline and the seconds left. dock.js owns the
// socket and hands this module the snapshot and every event; Accept and Decline go back
// through its request(). The offer's end is the server's fact: the countdown only shows
// it, and a late Accept gets the server's refusal.
window.CXGearDockOffers = (() => {
  "use strict";

  const offers = new Map(); // id -> conversation payload (status "offered")
  let api = null;
  let me = null;
  let timer = null;

  const $ = (id) => document.getElementById(id);

  function secondsLeft(offer) {
    return Math.max(0, Math.ceil((Date.parse(offer.offer_expires_at) - Date.now()) / 1000));
  }

  function make(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "text") node.textContent = value;
      else node.setAttribute(key, value);
    }
    node.append(...children);
    return node;
  }

  function snapshot(data, dockApi) {
    api = dockApi;
    me = data.me ? data.me.id : null;
    offers.clear();
    for (const offer of data.offers || []) offers.set(offer.id, offer);
    render();
  }

  function event(frame) {
    const c = frame.data || {};
    if (frame.type === "presence.changed") {
      if (c.member === me && c.source === "missed-offers" && c.status === "busy") {
        notice("Three offers in a row passed unanswered, so you were set Busy. Choose Available when you are back.");
      }
      return;
    }
    if (!frame.type.startsWith("conversation.")) return;
    if (c.status === "offered" && c.offered_to === me) {
      const known = offers.has(c.id);
      offers.set(c.id, c);
      if (!known) {
        notice("");
        const alerts = window.CXGearDockAlerts;
        if (alerts && typeof alerts.newChat === "function") alerts.newChat(c);
      }
    } else {
      offers.delete(c.id);
    }
    render();
  }

  function notice(text) {
    const node = $("offers-notice");
    if (!node) return;
    node.textContent = text;
    node.hidden = !text;
  }

  async function answer(id, command, button) {
    if (!api) return;
    button.disabled = true;
    try {
      await api.request(command, { conversation: id });
      offers.delete(id);
    } catch (err) {
      offers.delete(id);
      notice(err.message || "That did not work.");
    }
    render();
  }

  function card(offer) {
    const contact = offer.contact || {};
    const left = secondsLeft(offer);
    const name = contact.name || contact.wa_id || "A customer";
    const accept = make("button", { type: "button", class: "primary", text: "Accept" });
    const decline = make("button", { type: "button", class: "ghost", text: "Decline" });
    accept.setAttribute("aria-label", `Accept ${name}`);
    decline.setAttribute("aria-label", `Decline ${name}`);
    accept.disabled = left <= 0;
    accept.addEventListener("click", () => answer(offer.id, "offer.accept", accept));
    decline.addEventListener("click", () => answer(offer.id, "offer.decline", decline));
    const countdown = make("span", { class: "offer-countdown", "data-offer": String(offer.id), role: "timer" });
    countdown.textContent = left > 0 ? `${left} s` : "Time is up";
    return make(
      "li",
      { class: "offer", "data-conversation": String(offer.id), "aria-label": `Chat offered: ${name}` },
      make("div", { class: "offer-who" }, make("strong", { text: name }), make("small", { text: [offer.project_name, (offer.language || "").toUpperCase()].filter(Boolean).join(" · ") })),
      countdown,
      make("div", { class: "offer-actions" }, accept, decline),
    );
  }

  function tick() {
    for (const offer of offers.values()) {
      const node = document.querySelector(`.offer-countdown[data-offer="${offer.id}"]`);
      if (!node) continue;
      const left = secondsLeft(offer);
      node.textContent = left > 0 ? `${left} s` : "Time is up";
      const accept = node.parentElement && node.parentElement.querySelector("button.primary");
      if (accept && left <= 0) accept.disabled = true;
    }
  }

  function render() {
    const section = $("offers");
    if (!section) return;
    const list = $("offer-list");
    const ordered = [...offers.values()].sort((a, b) => Date.parse(a.offer_expires_at) - Date.parse(b.offer_expires_at));
    list.replaceChildren(...ordered.map(card));
    section.hidden = !ordered.length && $("offers-notice").hidden;
    clearInterval(timer);
    if (ordered.length) timer = setInterval(tick, 250);
  }

  return { snapshot, event, offers };
})();
