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
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-metric-chart]").forEach(draw);
  });
})();
