// The sprint page's burndown and burnup chart, drawn with uPlot from the
// series the server recorded (data-burn holds it as JSON; no inline script).
(function () {
  'use strict';
  function css(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
    return v || fallback;
  }
  function draw(el) {
    var b = JSON.parse(el.getAttribute('data-burn'));
    var n = b.days.length;
    function pad(a) { var out = a.slice(); while (out.length < n) out.push(null); return out; }
    var data = [b.days, pad(b.remaining), pad(b.done), pad(b.committed), b.ideal];
    var opts = {
      width: Math.max(320, el.clientWidth),
      height: 260,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
      axes: [{ stroke: css('--text-muted', '#666') }, { stroke: css('--text-muted', '#666'), label: 'points' }],
      series: [
        {},
        { label: 'Remaining', stroke: '#2563eb', width: 2 },
        { label: 'Done', stroke: '#15803d', width: 2 },
        { label: 'Committed', stroke: '#c2410c', width: 1, dash: [4, 4] },
        { label: 'Ideal', stroke: '#94a3b8', width: 1, dash: [2, 6] }
      ]
    };
    var chart = new window.uPlot(opts, data, el);
    window.addEventListener('resize', function () { chart.setSize({ width: Math.max(320, el.clientWidth), height: 260 }); });
  }
  document.addEventListener('DOMContentLoaded', function () {
    if (!window.uPlot) return;
    document.querySelectorAll('[data-burn]').forEach(draw);
  });
})();
