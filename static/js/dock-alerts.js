// Alerts for work the agent is not looking at: a new chat, or a customer's message in a
// chat that is not on screen, plays a short chime and, with the browser's permission,
// shows a desktop notification naming the customer. Both are switched in the dock's
// "Alerts and display" controls and remembered per member (localStorage).
//
// dock.js calls `CXGearDock.alerts.alert({...})`; a click on a notification calls
// `CXGearDock.alerts.onPick(conversationId)`, which dock.js sets to open the chat.
(() => {
  "use strict";

  const root = document.getElementById("dock");
  if (!root) return;

  // At most one chime in this long: a burst of messages (a replay) is one sound.
  const CHIME_GAP_MS = 1500;
  const canNotify = "Notification" in window;
  const key = (name) => `cxgear.dock.${root.dataset.member}.alerts.${name}`;

  function remembered(name, fallback) {
    try {
      const value = localStorage.getItem(key(name));
      return value === null ? fallback : value === "on";
    } catch {
      return fallback;
    }
  }

  function remember(name, on) {
    try {
      localStorage.setItem(key(name), on ? "on" : "off");
    } catch {
      /* the choice then lasts as long as the page */
    }
  }

  const granted = () => canNotify && Notification.permission === "granted";
  const prefs = {
    sound: remembered("sound", true),
    // Off until the agent turns it on, which asks the browser (a click may ask; a page
    // load may not), unless the browser already allows it.
    notify: remembered("notify", granted()),
  };

  const chime = new Audio(root.dataset.chimeUrl);
  chime.preload = "auto";
  let lastChime = 0;

  function playChime() {
    const now = Date.now();
    if (now - lastChime < CHIME_GAP_MS) return;
    lastChime = now;
    try {
      chime.currentTime = 0;
      const playing = chime.play();
      // A browser that allows no sound before the first click refuses; nothing to do.
      if (playing && playing.catch) playing.catch(() => {});
    } catch {
      /* no audio output */
    }
  }

  function showNotification({ conversation, name, text, kind }) {
    if (!granted()) return;
    try {
      const note = new Notification(kind === "new" ? `New chat: ${name}` : name, {
        body: text || (kind === "new" ? "A new chat is yours." : "New message"),
        tag: `cxgear-chat-${conversation}`, // one per chat: a newer message replaces it
      });
      note.addEventListener("click", () => {
        window.focus();
        if (api.onPick) api.onPick(conversation);
        note.close();
      });
    } catch {
      /* a browser that shows notifications only from a service worker */
    }
  }

  // kind: "new" (a chat arrived) or "message" (the customer wrote).
  function alert(event) {
    if (prefs.sound) playChime();
    if (prefs.notify) showNotification(event);
  }

  // --- the switches ---------------------------------------------------------------

  const sound = document.getElementById("pref-sound");
  const notify = document.getElementById("pref-notify");
  const note = document.getElementById("prefs-note");

  function say(text) {
    if (!note) return;
    note.textContent = text || "";
    note.hidden = !text;
  }

  function sync() {
    if (sound) sound.checked = prefs.sound;
    if (notify) {
      notify.checked = prefs.notify && granted();
      notify.disabled = !canNotify;
    }
  }

  if (sound) {
    sound.addEventListener("change", () => {
      prefs.sound = sound.checked;
      remember("sound", prefs.sound);
      if (prefs.sound) playChime(); // what it will sound like
    });
  }

  if (notify) {
    notify.addEventListener("change", async () => {
      if (!notify.checked) {
        prefs.notify = false;
        remember("notify", false);
        say("");
        return;
      }
      let permission = canNotify ? Notification.permission : "denied";
      if (permission === "default") permission = await Notification.requestPermission();
      prefs.notify = permission === "granted";
      remember("notify", prefs.notify);
      say(prefs.notify ? "" : "This browser blocks notifications from the dock; allow them in its site settings.");
      sync();
    });
  }

  sync();
  if (!canNotify) say("This browser shows no desktop notifications.");

  const api = { alert, prefs, onPick: null };
  window.CXGearDock = window.CXGearDock || {};
  window.CXGearDock.alerts = api;
})();
