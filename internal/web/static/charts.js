// Metric charts of the run page. The server sends a series already cut
// into min/max buckets (about one per pixel); zooming (drag to select)
// asks again for the zoomed step range, down to full resolution.
(function () {
  "use strict";
  function draw(fig) {
    var url = fig.getAttribute("data-metric-chart");
    var width = Math.max(280, Math.min(fig.clientWidth || 560, 900));
    var plot = null;
    function load(start, end) {
      var q = url + "&buckets=" + width;
      if (start != null) q += "&start=" + Math.floor(start) + "&end=" + Math.ceil(end);
      fetch(q, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        var data = [d.step, d.mean, d.min, d.max];
        if (plot) { plot.setData(data); return; }
        plot = new uPlot({
          width: width, height: 220,
          scales: { x: { time: false } },
          series: [{ label: "step" }, { label: "mean", stroke: "#4f6bed" },
                   { label: "min", stroke: "#9aa7e8", width: 1 }, { label: "max", stroke: "#9aa7e8", width: 1 }],
          hooks: { setSelect: [function (u) {
            if (u.select.width < 4) return;
            load(u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x"));
            u.setSelect({ width: 0, height: 0 }, false);
          }] },
          cursor: { drag: { x: true, y: false, setScale: false } }
        }, data, fig);
        fig.addEventListener("dblclick", function () { load(null, null); });
      });
    }
    load(null, null);
  }
  var palette = ["#4f6bed", "#e5484d", "#30a46c", "#f5a524", "#8e4ec6", "#12a594", "#d6409f", "#6e56cf"];
  // overlay draws one metric of several runs on a shared step axis. Like
  // the run page's charts, drag to zoom (each run's series is asked again
  // for the zoomed steps, down to full resolution), double-click to reset.
  function overlay(fig) {
    var series = JSON.parse(fig.getAttribute("data-compare-chart"));
    var width = Math.max(280, Math.min(fig.clientWidth || 560, 900));
    var plot = null;
    function load(start, end) {
      var range = start != null ? "&start=" + Math.floor(start) + "&end=" + Math.ceil(end) : "";
      Promise.all(series.map(function (s) {
        return fetch(s.url + "&buckets=" + width + range, { credentials: "same-origin" }).then(function (r) { return r.json(); });
      })).then(function (all) {
        var steps = {};
        all.forEach(function (d) { d.step.forEach(function (x) { steps[x] = true; }); });
        var xs = Object.keys(steps).map(Number).sort(function (a, b) { return a - b; });
        var data = [xs];
        all.forEach(function (d) {
          var at = {};
          d.step.forEach(function (x, i) { at[x] = d.mean[i]; });
          data.push(xs.map(function (x) { return x in at ? at[x] : null; }));
        });
        if (plot) { plot.setData(data); return; }
        plot = new uPlot({
          width: width, height: 240, scales: { x: { time: false } },
          series: [{ label: "step" }].concat(series.map(function (s, i) {
            return { label: s.name, stroke: palette[i % palette.length], spanGaps: true };
          })),
          hooks: { setSelect: [function (u) {
            if (u.select.width < 4) return;
            load(u.posToVal(u.select.left, "x"), u.posToVal(u.select.left + u.select.width, "x"));
            u.setSelect({ width: 0, height: 0 }, false);
          }] },
          cursor: { drag: { x: true, y: false, setScale: false } }
        }, data, fig);
        fig.addEventListener("dblclick", function () { load(null, null); });
      });
    }
    load(null, null);
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-metric-chart]").forEach(draw);
    document.querySelectorAll("[data-compare-chart]").forEach(overlay);
  });
})();
