// workflow.js: the planning page's workflow rows move up and down, go and
// come without a round trip. Without it the same buttons post the form and
// the server answers the rearranged rows (web/workflow.go).
(function () {
  'use strict';
  var table = document.querySelector('[data-workflow]');
  if (!table) return;
  var body = table.querySelector('tbody');
  var form = table.closest('form');

  // renumber keeps each row's number and labels in step with its place.
  function renumber() {
    body.querySelectorAll('[data-status-row]').forEach(function (row, i) {
      row.querySelector('[data-row-number]').textContent = String(i + 1);
      row.querySelectorAll('[data-label]').forEach(function (el) {
        el.setAttribute('aria-label', el.getAttribute('data-label').replace('{n}', String(i + 1)));
      });
    });
  }

  // blankRow is a new empty row, shaped like the page's last one.
  function blankRow() {
    var rows = body.querySelectorAll('[data-status-row]');
    var row = rows[rows.length - 1].cloneNode(true);
    row.classList.remove('row-error');
    row.querySelectorAll('.field-error').forEach(function (p) { p.remove(); });
    row.querySelectorAll('input').forEach(function (input) {
      input.value = '';
      input.removeAttribute('aria-invalid');
      input.removeAttribute('aria-describedby');
    });
    var select = row.querySelector('select');
    select.value = 'doing';
    return row;
  }

  form.addEventListener('click', function (ev) {
    var button = ev.target.closest('[data-row-action]');
    if (!button || !form.contains(button)) return;
    ev.preventDefault();
    var action = button.getAttribute('data-row-action');
    var row = button.closest('[data-status-row]');
    var focus = button;
    if (action === 'add') {
      // The last row is the empty one to fill in; another comes once it is.
      var last = body.lastElementChild;
      var empty = Array.prototype.every.call(last.querySelectorAll('input'), function (input) { return input.value === ''; });
      if (!empty) {
        last = blankRow();
        body.appendChild(last);
      }
      focus = last.querySelector('input');
    } else if (action === 'up' && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (action === 'down' && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    } else if (action === 'remove') {
      var next = row.nextElementSibling || row.previousElementSibling;
      if (body.querySelectorAll('[data-status-row]').length === 1) body.appendChild(blankRow());
      row.remove();
      focus = (next || body.querySelector('[data-status-row]')).querySelector('input');
    }
    renumber();
    focus.focus();
  });
})();
