// Wide tables and boards scroll sideways inside their box (.scroll-x).
// This marks such a box with data-overflow="left", "right" or both while
// content is hidden on that side, so the CSS fades that edge: a visible
// sign that there is more to scroll to.
(function () {
  'use strict';
  function mark(el) {
    var sides = [];
    if (el.scrollLeft > 1) sides.push('left');
    if (el.scrollLeft + el.clientWidth < el.scrollWidth - 1) sides.push('right');
    if (sides.length) el.setAttribute('data-overflow', sides.join(' '));
    else el.removeAttribute('data-overflow');
  }
  function markAll() { document.querySelectorAll('.scroll-x').forEach(mark); }
  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('.scroll-x').forEach(function (el) {
      el.addEventListener('scroll', function () { mark(el); }, { passive: true });
    });
    markAll();
  });
  window.addEventListener('resize', markAll);
  document.addEventListener('htmx:afterSettle', markAll);
})();
