// Metric charts of the run page and the comparison. The server sends a
// series already cut into min/max buckets (about one per pixel); zooming
// (drag to select) asks again for the zoomed step range, down to full
// resolution. A metric logged once is a number (run page) or one bar per
// run (comparison), not a lone dot on a step axis; legends show the latest
// values while the cursor is away.
(function () {
  'use strict';
  var K = window.TrellisCharts;
  var palette = ['#4f6bed', '#e5484d', '#30a46c', '#f5a524', '#8e4ec6', '#12a594', '#d6409f', '#6e56cf'];
  // zoomable draws data with uPlot, drag to zoom and double-click to
  // reset, load(start, end) fetching the range again.
  function zoomable(fig, width, height, series, data, load) {
    var plot = new uPlot({
      width: width, height: height, scales: { x: { time: false } },
      axes: [{}, { size: 56, values: function (u, splits) { return splits.map(K.fmt); } }],
      series: series,
      hooks: { setSelect: [function (u) {
        if (u.select.width < 4) return;
        load(u.posToVal(u.select.left, 'x'), u.posToVal(u.select.left + u.select.width, 'x'));
        u.setSelect({ width: 0, height: 0 }, false);
      }] },
      cursor: { drag: { x: true, y: false, setScale: false } }
    }, data, fig);
    fig.addEventListener('dblclick', function () { load(null, null); });
    return plot;
  }
  // step is the x series: the step under the cursor, else "latest".
  function step() { return { label: 'step', value: function (u, v, si, idx) { return idx == null ? 'latest' : String(v); } }; }
  function width(fig) { return Math.max(280, Math.min(fig.clientWidth || 560, 900)); }
  function draw(fig) {
    var url = fig.getAttribute('data-metric-chart');
    var w = width(fig);
    var plot = null;
    function load(start, end) {
      var q = url + '&buckets=' + w;
      if (start != null) q += '&start=' + Math.floor(start) + '&end=' + Math.ceil(end);
      fetch(q, { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (d) {
        var data = [d.step, d.mean, d.min, d.max];
        if (plot) { plot.setData(data); return; }
        if (d.step.length === 1 && start == null) {
          K.number(fig, d.mean[0], 'logged once, at step ' + d.step[0]);
          return;
        }
        plot = zoomable(fig, w, 220, [step(),
          { label: 'mean', stroke: '#4f6bed', value: K.legend(d.mean) },
          { label: 'min', stroke: '#9aa7e8', width: 1, value: K.legend(d.min) },
          { label: 'max', stroke: '#9aa7e8', width: 1, value: K.legend(d.max) }], data, load);
      });
    }
    load(null, null);
  }
  // overlay draws one metric of several runs on a shared step axis.
  function overlay(fig) {
    var series = JSON.parse(fig.getAttribute('data-compare-chart'));
    var w = width(fig);
    var plot = null;
    function load(start, end) {
      var range = start != null ? '&start=' + Math.floor(start) + '&end=' + Math.ceil(end) : '';
      Promise.all(series.map(function (s) {
        return fetch(s.url + '&buckets=' + w + range, { credentials: 'same-origin' }).then(function (r) { return r.json(); });
      })).then(function (all) {
        if (!plot && start == null && all.every(function (d) { return d.step.length <= 1; })) {
          K.bars(fig, all.map(function (d, i) { return { name: series[i].name, value: d.step.length ? d.mean[0] : null }; }));
          return;
        }
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
        plot = zoomable(fig, w, 240, [step()].concat(series.map(function (s, i) {
          return { label: s.name, stroke: palette[i % palette.length], spanGaps: true, value: K.legend(data[i + 1]) };
        })), data, load);
      });
    }
    load(null, null);
  }
  document.addEventListener('DOMContentLoaded', function () {
    if (typeof uPlot === 'undefined' || !K) return;
    document.querySelectorAll('[data-metric-chart]').forEach(draw);
    document.querySelectorAll('[data-compare-chart]').forEach(overlay);
  });
})();
