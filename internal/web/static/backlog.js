// Item forms: show the fields the chosen kind needs (hypothesis for
// experiments, a time box for research and experiments, points for
// development) and the custom time box input only when "custom" is chosen.
// Without this script every field shows, and the server still applies the
// rules.
(function () {
  'use strict';

  function kindOf(form) {
    var sel = form.querySelector('[data-kind-select]');
    return sel ? sel.value : form.getAttribute('data-kind');
  }

  function update(form) {
    var kind = kindOf(form);
    form.querySelectorAll('[data-kinds]').forEach(function (el) {
      el.hidden = el.getAttribute('data-kinds').split(' ').indexOf(kind) < 0;
    });
    var tb = form.querySelector('[data-time-box]');
    var custom = form.querySelector('[data-time-box-custom]');
    if (tb && custom) custom.hidden = tb.value !== 'custom';
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-item-form]').forEach(function (form) {
      update(form);
      form.addEventListener('change', function () { update(form); });
    });
  });
})();
