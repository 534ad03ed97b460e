// What the goal charts (goals.js) and the run charts (charts.js) share:
// number formatting, a y range that keeps the threshold in view, legend
// values that show the latest value when the cursor is away (never
// "--"), and the drawings for data too small for a line chart: a number
// for a single value, horizontal bars for one value per run or sprint.
(function () {
  'use strict';
  function fmt(v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(2);
    return String(Number(v.toPrecision(4)));
  }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  // yRange pads the range of values (and threshold, when given) by a
  // tenth, so no point sits on the frame and the threshold line shows.
  function yRange(values, threshold) {
    var lo = Infinity, hi = -Infinity;
    values.concat(threshold == null ? [] : [threshold]).forEach(function (v) {
      if (v == null || !isFinite(v)) return;
      lo = Math.min(lo, v); hi = Math.max(hi, v);
    });
    if (lo === Infinity) return [0, 1];
    var pad = (hi - lo) * 0.1 || Math.abs(hi) * 0.05 || 0.5;
    return [lo - pad, hi + pad];
  }
  // legend is a series' legend value: the value under the cursor, else
  // (cursor away) the series' latest value, labelled so.
  function legend(values) {
    var latest = null;
    for (var i = values.length - 1; i >= 0; i--) if (values[i] != null) { latest = values[i]; break; }
    return function (u, v, si, idx) {
      if (idx == null) return latest == null ? '–' : fmt(latest) + ' (latest)';
      return fmt(v);
    };
  }
  // number draws a single value as a number with its caption.
  function number(parent, value, caption) {
    var box = el('div', 'chart-number');
    box.appendChild(el('strong', null, fmt(value)));
    if (caption) box.appendChild(el('span', 'muted', caption));
    parent.appendChild(box);
    return box;
  }
  // bars draws rows [{name, value}] as horizontal bars from zero (or the
  // lowest value, when one is negative), with the threshold as a dashed
  // line across them when given (and named below them unless quiet).
  function bars(parent, rows, threshold, thresholdLabel, quiet) {
    var vals = rows.map(function (r) { return r.value; }).filter(function (v) { return v != null && isFinite(v); });
    var lo = Math.min(0, Math.min.apply(null, vals.concat(threshold == null ? [] : [threshold])));
    var hi = Math.max.apply(null, vals.concat(threshold == null ? [] : [threshold]));
    hi = hi + (hi - lo) * 0.08 || 1;
    var pos = function (v) { return ((v - lo) / (hi - lo) * 100).toFixed(2) + '%'; };
    var list = el('div', 'hbars');
    rows.forEach(function (r) {
      var row = el('div', 'hbar');
      row.appendChild(el('span', 'hbar-name', r.name)).title = r.name;
      var track = el('span', 'hbar-track');
      var fill = el('span', 'hbar-fill');
      fill.style.width = r.value == null ? '0' : pos(r.value);
      track.appendChild(fill);
      if (threshold != null) {
        var mark = el('span', 'hbar-threshold');
        mark.style.left = pos(threshold);
        mark.title = thresholdLabel || 'threshold ' + fmt(threshold);
        track.appendChild(mark);
      }
      row.appendChild(track);
      row.appendChild(el('span', 'hbar-value', fmt(r.value)));
      list.appendChild(row);
    });
    if (threshold != null && !quiet) list.appendChild(el('p', 'hbar-legend muted', (thresholdLabel || 'threshold') + ' ' + fmt(threshold) + ' (dashed line)'));
    parent.appendChild(list);
    return list;
  }
  window.TrellisCharts = { fmt: fmt, yRange: yRange, legend: legend, number: number, bars: bars };
})();
