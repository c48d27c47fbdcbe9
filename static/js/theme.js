// Light, dark or the system's choice (auto), remembered per member in localStorage.
// Loaded in <head> without `defer`, so the page is painted in the chosen theme from the
// start: it sets <html data-theme>, which static/css/tokens.css reads. A <select
// data-theme-choice> anywhere on the page becomes the switch, once the page is parsed.
(() => {
  "use strict";

  const CHOICES = ["auto", "light", "dark"];
  const meta = document.querySelector('meta[name="cxgear-member"]');
  const key = `cxgear.${meta ? meta.content : "anyone"}.theme`;

  function read() {
    try {
      const value = localStorage.getItem(key);
      return CHOICES.includes(value) ? value : "auto";
    } catch {
      return "auto"; // storage may be unavailable: the system decides
    }
  }

  function apply(choice) {
    document.documentElement.dataset.theme = choice;
  }

  function set(choice) {
    if (!CHOICES.includes(choice)) return;
    apply(choice);
    try {
      if (choice === "auto") localStorage.removeItem(key);
      else localStorage.setItem(key, choice);
    } catch {
      /* the choice then lasts as long as the page */
    }
    for (const control of document.querySelectorAll("[data-theme-choice]")) control.value = choice;
  }

  apply(read());

  document.addEventListener("DOMContentLoaded", () => {
    for (const control of document.querySelectorAll("[data-theme-choice]")) {
      control.value = read();
      control.addEventListener("change", () => set(control.value));
    }
  });

  window.CXGearTheme = { get: read, set };
})();
