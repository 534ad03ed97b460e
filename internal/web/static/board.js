// Boards: drag and drop with SortableJS and keyboard moves. A move is
// persisted with a POST to /p/{key}/board/move (status on the flow and
// sprint boards, stage on the experiment board, and the neighbours for the
// order); a refused move (say, a development item without points) puts the
// card back and shows why. Column counts and WIP warnings update in place.
(function () {
  'use strict';

  function toast(message) {
    var el = document.getElementById('toast');
    if (!el) { window.alert(message); return; }
    el.textContent = message;
    el.hidden = false;
    setTimeout(function () { el.hidden = true; }, 7000);
  }

  // adjust changes a column's count by delta and re-checks its WIP limit.
  // Counts come from the server (a column may hold more cards than it
  // renders), so moves adjust them rather than count cards.
  function adjust(list, delta) {
    var col = list.closest('.board-column');
    var count = col.querySelector('[data-count]');
    var n = parseInt(count.textContent, 10) + delta;
    count.textContent = String(n);
    var wip = parseInt(list.getAttribute('data-wip') || '0', 10);
    col.classList.toggle('over-limit', wip > 0 && n > wip);
  }

  function refreshWarnings(board) {
    var box = document.getElementById('board-warnings');
    if (!box) return;
    box.querySelectorAll('[data-wip-warning]').forEach(function (p) { p.remove(); });
    board.querySelectorAll('.board-column.over-limit').forEach(function (col) {
      var list = col.querySelector('[data-column]');
      var p = document.createElement('p');
      p.className = 'warning';
      p.setAttribute('data-wip-warning', '');
      p.textContent = list.getAttribute('data-column') + ' holds ' + col.querySelector('[data-count]').textContent +
        ' items; its WIP limit is ' + list.getAttribute('data-wip') + '.';
      box.appendChild(p);
    });
  }

  function persist(board, card, from, fromIndex) {
    var list = card.parentNode;
    var field = list.getAttribute('data-field') || 'status';
    var body = new URLSearchParams();
    body.set('item', card.getAttribute('data-key'));
    body.set(field, list.getAttribute('data-column'));
    var prev = card.previousElementSibling, next = card.nextElementSibling;
    if (prev) body.set('after', prev.getAttribute('data-key'));
    else if (next) body.set('before', next.getAttribute('data-key'));
    var url = '/p/' + encodeURIComponent(board.getAttribute('data-project')) + '/board/move';
    if (from !== list) { adjust(from, -1); adjust(list, 1); refreshWarnings(board); }
    return fetch(url, { method: 'POST', body: body, credentials: 'same-origin', headers: { 'Accept': 'application/json' } })
      .then(function (resp) {
        return resp.json().catch(function () { return { error: 'The move failed (status ' + resp.status + ').' }; })
          .then(function (data) { return { ok: resp.ok, data: data }; });
      })
      .then(function (res) {
        if (res.ok) return;
        // Put the card back where it was.
        if (from !== list) { adjust(list, -1); adjust(from, 1); refreshWarnings(board); }
        var ref = from.children[fromIndex] || null;
        from.insertBefore(card, ref === card ? card.nextSibling : ref);
        toast(res.data.error || 'The move was refused.');
      }, function () {
        toast('The server could not be reached; the move was not saved. Reload the page.');
      });
  }

  function init(board) {
    var editable = board.hasAttribute('data-editable');
    if (editable && window.Sortable) {
      board.querySelectorAll('[data-column]').forEach(function (list) {
        var lane = list.closest('.board-lane');
        window.Sortable.create(list, {
          group: lane ? 'lane-' + Array.prototype.indexOf.call(board.children, lane) : 'board',
          animation: 120,
          filter: 'a',
          preventOnFilter: false,
          onEnd: function (e) {
            if (e.from === e.to && e.oldIndex === e.newIndex) return;
            persist(board, e.item, e.from, e.oldIndex);
          }
        });
      });
    }
    if (!editable) return;
    // Keyboard: Alt+Left/Right moves a focused card to the neighbouring
    // column, Alt+Up/Down reorders it within its column.
    board.addEventListener('keydown', function (e) {
      var card = e.target.closest && e.target.closest('.card-item');
      if (!card || !e.altKey) return;
      var list = card.parentNode;
      var from = list, fromIndex = Array.prototype.indexOf.call(list.children, card);
      if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        var cols = Array.prototype.slice.call(list.closest('.board-columns').querySelectorAll('[data-column]'));
        var i = cols.indexOf(list) + (e.key === 'ArrowRight' ? 1 : -1);
        if (i < 0 || i >= cols.length) return;
        e.preventDefault();
        cols[i].insertBefore(card, cols[i].firstElementChild);
      } else if (e.key === 'ArrowUp' || e.key === 'ArrowDown') {
        var sib = e.key === 'ArrowUp' ? card.previousElementSibling : card.nextElementSibling;
        if (!sib) return;
        e.preventDefault();
        list.insertBefore(card, e.key === 'ArrowUp' ? sib : sib.nextSibling);
      } else {
        return;
      }
      card.focus();
      persist(board, card, from, fromIndex);
    });
  }

  document.addEventListener('DOMContentLoaded', function () {
    document.querySelectorAll('[data-board]').forEach(init);
  });
})();
