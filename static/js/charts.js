// Small SVG charts drawn from data: bars with an optional line on a second scale and an
// optional target line. No library: a few shapes, each bar a <rect class="bar"> carrying
// its value (data-value) and a <title>, so a screen reader and a test can read it.
(function () {
  "use strict";

  const NS = "http://www.w3.org/2000/svg";
  const HEIGHT = 240;
  const MARGIN = { top: 14, right: 52, bottom: 30, left: 52 };

  function svg(tag, attrs, text) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, String(value));
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function niceMax(value) {
    if (!(value > 0)) return 1;
    const power = Math.pow(10, Math.floor(Math.log10(value)));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (value <= step * power) return step * power;
    }
    return 10 * power;
  }

  // spec: {labels, bars, barFormat, barMax?, line?, lineFormat?, target?, title, labelEvery?}
  function draw(container, spec) {
    container.replaceChildren();
    // As wide as its box, so its text keeps one size whatever the chart's width.
    const WIDTH = Math.max(320, Math.round(container.clientWidth || 720));
    const plotW = WIDTH - MARGIN.left - MARGIN.right;
    const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
    const root = svg("svg", {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      role: "img",
      "aria-label": spec.title,
      class: "chart",
    });
    root.append(svg("title", {}, spec.title));
    const count = spec.labels.length;
    const slot = plotW / Math.max(count, 1);
    const barMax = spec.barMax || niceMax(Math.max(0, ...spec.bars.filter((v) => v !== null)));
    const y = (v) => MARGIN.top + plotH - (v / barMax) * plotH;

    const axis = svg("g", { class: "axis" });
    for (const tick of [0, barMax / 2, barMax]) {
      axis.append(svg("line", { class: "grid", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(tick), y2: y(tick) }));
      axis.append(svg("text", { x: MARGIN.left - 6, y: y(tick) + 4, "text-anchor": "end" }, spec.barFormat(tick)));
    }
    const every = spec.labelEvery || Math.max(1, Math.ceil(count / 12));
    spec.labels.forEach((label, i) => {
      if (i % every) return;
      axis.append(svg("text", { x: MARGIN.left + slot * (i + 0.5), y: HEIGHT - 10, "text-anchor": "middle" }, label));
    });
    root.append(axis);

    const bars = svg("g", { class: "bars" });
    spec.bars.forEach((value, i) => {
      if (value === null || value === undefined) return;
      const top = y(Math.min(value, barMax));
      const rect = svg("rect", {
        class: "bar",
        x: MARGIN.left + slot * i + slot * 0.14,
        y: top,
        width: Math.max(1, slot * 0.72),
        height: Math.max(0, MARGIN.top + plotH - top),
        "data-value": value,
      });
      rect.append(svg("title", {}, `${spec.labels[i]}: ${spec.barFormat(value)}`));
      bars.append(rect);
    });
    root.append(bars);

    if (spec.target !== undefined && spec.target !== null) {
      root.append(svg("line", { class: "target", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: y(spec.target), y2: y(spec.target) }));
    }

    if (spec.line) {
      const known = spec.line.filter((v) => v !== null && v !== undefined);
      const lineMax = niceMax(Math.max(0, ...known));
      const ly = (v) => MARGIN.top + plotH - (v / lineMax) * plotH;
      const line = svg("g", { class: "series" });
      for (const tick of [0, lineMax / 2, lineMax]) {
        line.append(svg("text", { class: "axis-right", x: WIDTH - MARGIN.right + 6, y: ly(tick) + 4 }, spec.lineFormat(tick)));
      }
      let path = "";
      spec.line.forEach((value, i) => {
        if (value === null || value === undefined) return;
        const x = MARGIN.left + slot * (i + 0.5);
        path += `${path ? "L" : "M"}${x.toFixed(1)},${ly(value).toFixed(1)}`;
        const point = svg("circle", { class: "point", cx: x, cy: ly(value), r: 3, "data-value": value });
        point.append(svg("title", {}, `${spec.labels[i]}: ${spec.lineFormat(value)}`));
        line.append(point);
      });
      if (path) line.prepend(svg("path", { class: "line", d: path }));
      root.append(line);
    }
    container.append(root);
    return root;
  }

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "–";
    const s = Math.max(0, Math.round(seconds));
    if (s < 60) return `${s}s`;
    if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
    return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  }

  function percent(share) {
    return share === null || share === undefined ? "–" : `${Math.round(share * 1000) / 10}%`;
  }

  window.CXGearCharts = { draw, duration, percent, request: window.CXGearApi.request };
})();
