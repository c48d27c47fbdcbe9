// The first-reply target of a chat as the dock's list shows it: the time left until
// `sla_due_at`, amber when less than a quarter of the project's target is left, red once
// it has passed (or the server recorded the breach). conversations/sla.py defines the
// moments; a chat with no deadline, or already answered, shows nothing of it.
(() => {
  "use strict";

  const AMBER_SHARE = 0.25;

  // {phase: "ok" | "amber" | "red", left: seconds (negative once late), label, spoken}
  // or null when the chat has no running deadline.
  function status(c, now = Date.now()) {
    if (!c || !c.sla_due_at || c.first_reply_at) return null;
    const due = Date.parse(c.sla_due_at);
    // Whole seconds, rounded away from the deadline: "0:01" until it passes, never late early.
    const early = due - now;
    const left = early > 0 ? Math.ceil(early / 1000) : -Math.floor(-early / 1000);
    const target = Number(c.sla_target_seconds) || 0;
    let phase = "ok";
    if (c.sla_breached_at || early <= 0) phase = "red";
    else if (target && left < target * AMBER_SHARE) phase = "amber";
    const label = phase === "red" ? `SLA −${clock(Math.max(0, -left))}` : `SLA ${clock(left)}`;
    const spoken = phase === "red" ? `first reply overdue by ${words(Math.max(0, -left))}` : `first reply due in ${words(left)}`;
    return { phase, left, label, spoken };
  }

  function clock(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s >= 3600) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
    return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
  }

  function words(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    if (s < 60) return `${s} seconds`;
    if (s < 3600) return `${Math.round(s / 60)} minutes`;
    return `${Math.floor(s / 3600)} hours ${Math.round((s % 3600) / 60)} minutes`;
  }

  window.CXGearDock = window.CXGearDock || {};
  window.CXGearDock.sla = { status };
})();
