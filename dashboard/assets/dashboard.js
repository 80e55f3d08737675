/* musclesim dashboard: browser-side helpers (no network, no globals beyond the namespace). */
(function () {
  "use strict";
  var ns = (window.dash_clientside = window.dash_clientside || {});

  function applyFrame(fig, step) {
    if (!fig || !fig.frames || !fig.frames.length) { return null; }
    var k = Math.max(0, Math.min(step || 0, fig.frames.length - 1));
    var frame = fig.frames[k];
    var data = fig.data.slice();
    (frame.traces || []).forEach(function (ti, j) {
      var upd = frame.data[j] || {};
      var old = data[ti] || {};
      data[ti] = Object.assign({}, old, { marker: Object.assign({}, old.marker || {}, upd.marker || {}) });
    });
    return { fig: Object.assign({}, fig, { data: data }), name: frame.name };
  }

  /* an html element in Dash's wire form */
  function el(type, children, props) {
    var p = Object.assign({}, props || {});
    if (children !== undefined) { p.children = children; }
    return { type: type, namespace: "dash_html_components", props: p };
  }

  /* the measures table from one update's cells (data.rows: [name, value, change, mechanics,
     coupling, flag, class]) and the page's fixed parts (labels, hovers, normal bands, groups) */
  function measuresTable(data, fixed) {
    var groups = {};
    fixed.groups.forEach(function (g) { groups[g] = []; });
    data.rows.forEach(function (r) {
      var m = fixed.measures[r[0]] || [r[0].replace(/_/g, " "), "", "—", "no normal band", "Other"];
      groups[m[4]].push(el("Tr", [
        el("Th", m[0], { scope: "row", title: m[1] }),
        el("Td", r[1], { className: "num" }), el("Td", r[2], { className: "num" }),
        el("Td", r[3], { className: "num split-mech" }), el("Td", r[4], { className: "num split-coup" }),
        el("Td", m[2], { title: m[3], className: "num band" }), el("Td", r[5], { className: "flag" })
      ], { className: r[6], "data-measure": r[0] }));
    });
    var head = el("Thead", el("Tr", [
      el("Th", "measure", { scope: "col" }), el("Th", "value", { scope: "col" }), el("Th", "change", { scope: "col" }),
      el("Th", "mechanics", { scope: "col", className: "split-col", title: fixed.head.mechanics }),
      el("Th", "assumed coupling", { scope: "col", className: "split-col",
        title: fixed.head.coupling + "; evidence: " + data.grade + " (in the change's unit)" }),
      el("Th", "normal band", { scope: "col" }), el("Th", "flag", { scope: "col" })
    ]));
    var bodies = fixed.groups.filter(function (g) { return groups[g].length; }).map(function (g) {
      return el("Tbody", [el("Tr", el("Th", g, { colSpan: 7, scope: "colgroup" }), { className: "group" })]
        .concat(groups[g]), { className: "measure-group" });
    });
    return el("Table", [head].concat(bodies), { className: "measures" });
  }

  ns.musclesim = {
    /* the measures table (drawn here: the server sends only each update's cells) */
    measuresTable: function (data, fixed) {
      if (!data || !fixed) { return ns.no_update; }
      return measuresTable(data, fixed);
    },
    /* show propagation frame `step` of the graph figure */
    showFrame: function (step, fig) {
      var out = applyFrame(fig, step);
      if (!out) { return [ns.no_update, ns.no_update]; }
      return [out.fig, out.name];
    },
    /* play/pause: a paused timer starts (from the first frame when at the end) */
    togglePlay: function (clicks, disabled, value, max) {
      if (disabled) {
        var start = (value >= max) ? 0 : value;
        return [false, "❚❚ Pause", start];
      }
      return [true, "▶ Play", ns.no_update];
    },
    /* next frame: from the timer (stops at the end) or the Step button (wraps) */
    nextFrame: function (n, clicks, value, max, disabled) {
      var trig = (ns.callback_context && ns.callback_context.triggered && ns.callback_context.triggered[0]) || {};
      var fromTimer = String(trig.prop_id || "").indexOf("n_intervals") >= 0;
      var v = (value || 0) + 1;
      if (fromTimer) {
        if (v >= max) { return [max, true, "▶ Play"]; }
        return [v, ns.no_update, ns.no_update];
      }
      return [v > max ? 0 : v, ns.no_update, ns.no_update];
    }
  };

  /* Accessibility: give every slider thumb and number box the label of its group. Dash 4's
     slider renders neither an aria-label nor a <label>; the wrapper carries data-label. */
  function label(root) {
    var groups = (root || document).querySelectorAll("[data-label]");
    for (var i = 0; i < groups.length; i++) {
      var text = groups[i].getAttribute("data-label");
      var thumbs = groups[i].querySelectorAll('[role="slider"]');
      for (var j = 0; j < thumbs.length; j++) {
        if (thumbs[j].getAttribute("aria-label") !== text) { thumbs[j].setAttribute("aria-label", text); }
      }
      var boxes = groups[i].querySelectorAll('input[type="number"]');
      for (var k = 0; k < boxes.length; k++) {
        if (boxes[k].getAttribute("aria-label") !== text) { boxes[k].setAttribute("aria-label", text); }
      }
    }
  }
  /* Dash 4's dropdown names itself after its current value only: prepend the visible label. */
  function labelDropdowns(root) {
    var groups = (root || document).querySelectorAll("[data-labelledby]");
    for (var i = 0; i < groups.length; i++) {
      var lid = groups[i].getAttribute("data-labelledby");
      var btns = groups[i].querySelectorAll('button[aria-haspopup]');
      for (var j = 0; j < btns.length; j++) {
        var cur = btns[j].getAttribute("aria-labelledby") || "";
        if (cur.split(" ").indexOf(lid) < 0) { btns[j].setAttribute("aria-labelledby", (lid + " " + cur).trim()); }
      }
    }
  }
  var pending = false;
  var observer = new MutationObserver(function () {
    if (pending) { return; }
    pending = true;
    window.requestAnimationFrame(function () { pending = false; label(document); labelDropdowns(document); });
  });
  function start() {
    label(document);
    labelDropdowns(document);
    observer.observe(document.body, { childList: true, subtree: true });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
