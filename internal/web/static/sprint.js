// The sprint page's burndown and burnup chart, drawn with uPlot from the
// series the server recorded (data-burn holds it as JSON; no inline script).
(function () {
  'use strict';
  var K = window.TrellisCharts;
  function css(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }
  function draw(el) {
    var b = JSON.parse(el.getAttribute('data-burn'));
    var n = b.days.length;
    function pad(a) { var out = a.slice(); while (out.length < n) out.push(null); return out; }
    var data = [b.days, pad(b.remaining), pad(b.done), pad(b.committed), b.ideal];
    var last = b.days[Math.max(0, b.remaining.length - 1)];
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: 260,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [{ stroke: css('--text-muted', '#666') }, { stroke: css('--text-muted', '#666'), label: 'points' }],
      // The legend shows the day under the cursor, else the latest day.
      series: [
        { label: 'Day', value: function (u, ts, si, idx) {
          var t = idx == null ? last : ts;
          return t == null ? '' : new Date(t * 1000).toLocaleDateString(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' });
        } },
        { label: 'Remaining', stroke: '#2563eb', width: 2, value: K.legend(data[1]) },
        { label: 'Done', stroke: '#15803d', width: 2, value: K.legend(data[2]) },
        { label: 'Committed', stroke: '#c2410c', width: 1, dash: [4, 4], value: K.legend(data[3]) },
        { label: 'Ideal', stroke: '#94a3b8', width: 1, dash: [2, 6], value: function (u, v, si, idx) { return idx == null ? '' : K.fmt(v); } }
      ]
    };
    var chart = new window.uPlot(opts, data, el);
    window.addEventListener('resize', function () { chart.setSize({ width: Math.max(320, el.clientWidth), height: 260 }); });
  }
  document.addEventListener('DOMContentLoaded', function () {
    if (!window.uPlot || !K) return;
    document.querySelectorAll('[data-burn]').forEach(draw);
  });
})();
