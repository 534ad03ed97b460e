// Goal charts of the item and project pages, one small card per goal side
// by side: its metric in every finished run (x = the run's place in start
// order, #1, #2 …; the legend names the run under the cursor) against the
// threshold line, and the best value per sprint as bars. A single run is
// a bar against the threshold, not a lone dot.
(function () {
  'use strict';
  var K = window.TrellisCharts;
  function runsChart(fig, g, width) {
    var names = g.runs.map(function (r) { return r.name; });
    var values = g.runs.map(function (r) { return r.value; });
    var xs = names.map(function (_, i) { return i + 1; });
    var range = K.yRange(values, g.threshold);
    new uPlot({
      width: width, height: 170,
      scales: { x: { time: false, range: function (u, min, max) { return [min - 0.5, max + 0.5]; } },
        y: { range: function () { return range; } } },
      axes: [{ space: 36, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
        values: function (u, splits) { return splits.map(function (x) { return Number.isInteger(x) && x >= 1 && x <= names.length ? '#' + x : ''; }); } },
        { size: 56, values: function (u, splits) { return splits.map(K.fmt); } }],
      // The threshold runs across the whole plot, not only between runs.
      hooks: { draw: [function (u) {
        var y = Math.round(u.valToPos(g.threshold, 'y', true)), ctx = u.ctx;
        ctx.save();
        ctx.strokeStyle = '#e5484d'; ctx.lineWidth = 1.5 * devicePixelRatio; ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
        ctx.beginPath(); ctx.moveTo(u.bbox.left, y); ctx.lineTo(u.bbox.left + u.bbox.width, y); ctx.stroke();
        ctx.restore();
      }] },
      series: [{ label: 'run', value: function (u, x) { return x == null ? names.length + ' runs' : names[Math.round(x) - 1] || ''; } },
        { label: g.metric || 'value', stroke: '#4f6bed', width: 2, points: { show: true, size: 7 }, spanGaps: true, value: K.legend(values) },
        { label: 'threshold', stroke: '#e5484d', dash: [6, 4], width: 0, points: { show: false }, value: function () { return K.fmt(g.threshold); } }]
    }, [xs, values, xs.map(function () { return g.threshold; })], fig);
  }
  function draw(el) {
    var goals = JSON.parse(el.getAttribute('data-goal-charts') || '[]').filter(function (g) { return g.runs.length; });
    // Every card first, so each chart is drawn at its card's final width.
    var figs = goals.map(function (g) {
      var fig = document.createElement('figure');
      fig.className = 'goal-chart';
      fig.setAttribute('data-goal-chart', g.goal);
      var h = document.createElement('h3');
      h.textContent = g.goal;
      fig.appendChild(h);
      el.appendChild(fig);
      return fig;
    });
    goals.forEach(function (g, i) {
      var fig = figs[i];
      if (g.runs.length === 1) {
        K.bars(fig, [{ name: g.runs[0].name, value: g.runs[0].value }], g.threshold);
      } else {
        runsChart(fig, g, Math.max(240, fig.clientWidth - 24));
      }
      if (g.sprints.length) {
        var sub = document.createElement('h4');
        sub.textContent = 'Best per sprint';
        fig.appendChild(sub);
        K.bars(fig, g.sprints.map(function (s) { return { name: s.name, value: s.best }; }), g.threshold, null, g.runs.length === 1);
      }
    });
  }
  document.addEventListener('DOMContentLoaded', function () {
    if (typeof uPlot === 'undefined' || !K) return;
    document.querySelectorAll('[data-goal-charts]').forEach(draw);
  });
})();
