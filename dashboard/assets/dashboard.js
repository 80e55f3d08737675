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

  ns.musclesim = {
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
