// Goal charts of the item and project pages: for each goal, its metric in
// every run (x = run start order) against the threshold line, and, when
// runs fall in sprints, the best value per sprint against the same line.
(function () {
  "use strict";
  function chart(parent, title, labels, values, threshold, width, height) {
    var fig = document.createElement("figure");
    fig.className = "goal-chart";
    var h = document.createElement("h3");
    h.textContent = title;
    fig.appendChild(h);
    parent.appendChild(fig);
    var xs = labels.map(function (_, i) { return i + 1; });
    new uPlot({
      width: width, height: height,
      scales: { x: { time: false } },
      axes: [{ values: function (u, splits) {
        return splits.map(function (x) { return Number.isInteger(x) && labels[x - 1] != null ? labels[x - 1] : ""; });
      } }, {}],
      series: [{ label: "run", value: function (u, x) { return x == null ? "" : labels[x - 1]; } },
        { label: "value", stroke: "#4f6bed", points: { show: true, size: 6 }, spanGaps: false },
        { label: "threshold", stroke: "#e5484d", dash: [6, 4], width: 1, points: { show: false } }]
    }, [xs, values, xs.map(function () { return threshold; })], fig);
  }
  function draw(el) {
    var goals = JSON.parse(el.getAttribute("data-goal-charts") || "[]");
    var width = Math.max(280, Math.min(el.clientWidth || 560, 900));
    goals.forEach(function (g) {
      if (!g.runs.length) return;
      chart(el, g.goal + " \u00b7 per run", g.runs.map(function (r) { return r.name; }),
        g.runs.map(function (r) { return r.value; }), g.threshold, width, 200);
      if (g.sprints.length) {
        chart(el, g.goal + " \u00b7 best per sprint", g.sprints.map(function (s) { return s.name; }),
          g.sprints.map(function (s) { return s.best; }), g.threshold, width, 140);
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (typeof uPlot === "undefined") return;
    document.querySelectorAll("[data-goal-charts]").forEach(draw);
  });
})();
