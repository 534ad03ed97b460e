// Trellis keyboard habits of Jira and Linear users (issue 12, point 6):
// "/" focuses the page's search box, "c" opens New item, "g" then a letter
// jumps to a page of the menu, "j"/"k" move through list rows and board
// cards and Enter opens the current one, Cmd/Ctrl-K opens the command
// palette. "?" (the help) and "t" (the theme) stay in app.js.
//
// This listener runs in the capture phase, before app.js's, and marks every
// key it takes with preventDefault, which app.js's handler skips; so the "g"
// jumps here replace the shorter list app.js keeps for pages without this
// file. Single keys never fire while typing in a field or with a modifier.
(function () {
  'use strict';

  function typing(t) {
    if (!t || !t.tagName) return false;
    var tag = t.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || t.isContentEditable;
  }

  function project() { return document.body.getAttribute('data-project') || ''; }
  function projectPath(rest) { return '/p/' + encodeURIComponent(project()) + rest; }

  // "g" + letter. The help dialog in layout.html lists the same letters.
  var GLOBAL = { p: '/projects', i: '/inbox', a: '/account' };
  var IN_PROJECT = {
    o: '', b: '/backlog', d: '/board', s: '/sprints', e: '/experiments', r: '/runs',
    l: '/goals', m: '/models', t: '/data', ',': '/settings'
  };
  function jumpTarget(k) {
    if (Object.prototype.hasOwnProperty.call(GLOBAL, k)) return GLOBAL[k];
    if (project() && Object.prototype.hasOwnProperty.call(IN_PROJECT, k)) return projectPath(IN_PROJECT[k]);
    return null;
  }

  function visible(el) { return !!(el && el.getClientRects().length) && !el.disabled; }

  // The page's search or filter box: a type=search field first (runs), then
  // the text query of a search form (backlog, project search), then the first
  // field of any search form (board filters).
  function searchBox() {
    var sels = ['main input[type="search"]', 'main [role="search"] input[name="q"]',
      'main [role="search"] input:not([type="hidden"]):not([type="checkbox"]):not([type="radio"])'];
    for (var i = 0; i < sels.length; i++) {
      var all = document.querySelectorAll(sels[i]);
      for (var j = 0; j < all.length; j++) if (visible(all[j])) return all[j];
    }
    return null;
  }

  function newItem() {
    if (!project()) return false;
    var backlog = projectPath('/backlog');
    if (location.pathname !== backlog || !document.getElementById('new-item')) {
      location.assign(backlog + '#new-item');
    } else if (location.hash !== '#new-item') {
      location.hash = 'new-item'; // app.js focuses Title on hashchange
    } else {
      var title = document.querySelector('#new-item input[name="title"]');
      if (title) { title.scrollIntoView({ block: 'center' }); title.focus({ preventScroll: true }); }
    }
    return true;
  }

  // j/k: the rows of the page's tables (backlog, runs) and the board's cards,
  // in page order, those that link somewhere.
  var current = null;
  function rows() {
    var all = document.querySelectorAll('main table tbody tr, main .card-item');
    var out = [];
    for (var i = 0; i < all.length; i++) if (visible(all[i]) && all[i].querySelector('a[href]')) out.push(all[i]);
    return out;
  }

  function move(step) {
    var list = rows();
    if (!list.length) return false;
    var i = list.indexOf(current);
    i = i < 0 ? (step > 0 ? 0 : list.length - 1) : Math.max(0, Math.min(list.length - 1, i + step));
    if (current) current.classList.remove('key-current');
    current = list[i];
    current.classList.add('key-current');
    if (!current.hasAttribute('tabindex')) current.setAttribute('tabindex', '-1');
    current.focus({ preventScroll: true });
    current.scrollIntoView({ block: 'nearest' });
    return true;
  }

  // Enter opens the row j/k reached, or a board card focused by Tab.
  function openCurrent(target) {
    var row = target === current ? current : (target.classList && target.classList.contains('card-item') ? target : null);
    if (!row || !document.body.contains(row)) return false;
    var a = row.querySelector('a[href]');
    if (!a) return false;
    a.click();
    return true;
  }

  document.addEventListener('focusout', function (e) {
    if (current && e.target === current) current.classList.remove('key-current');
  });
  document.addEventListener('focusin', function (e) {
    if (current && e.target === current) current.classList.add('key-current');
  });

  // The command palette: pages of the menu, then items (the JSON search
  // API), runs (the runs page's name search) and goals (the goals API) of
  // the current project. The session cookie authenticates the GETs.
  var palette = null;
  var input = null;
  var list = null;
  var results = [];
  var chosen = 0;
  var seq = 0;
  var timer = null;
  var inflight = false;
  var enterWaits = false; // Enter came before the results of what was typed
  var goalsCache = null;
  var LIMIT = 8;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text) e.textContent = text;
    return e;
  }

  function buildPalette() {
    if (palette) return palette;
    palette = el('dialog', 'dialog palette');
    palette.id = 'palette';
    palette.setAttribute('aria-label', 'Command palette');
    input = el('input', 'palette-input');
    input.type = 'text';
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-label', 'Find a page, item, run or goal');
    input.setAttribute('aria-controls', 'palette-list');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'true');
    input.setAttribute('autocomplete', 'off');
    input.setAttribute('spellcheck', 'false');
    input.placeholder = project() ? 'Find a page, item, run or goal…' : 'Find a page…';
    list = el('ul', 'palette-list');
    list.id = 'palette-list';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Results');
    var hint = el('p', 'palette-hint');
    hint.innerHTML = '<kbd>↑</kbd> <kbd>↓</kbd> choose · <kbd>Enter</kbd> open · <kbd>Esc</kbd> close';
    palette.appendChild(input);
    palette.appendChild(list);
    palette.appendChild(hint);
    document.body.appendChild(palette);
    input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 150); });
    input.addEventListener('keydown', paletteKey);
    list.addEventListener('mousedown', function (e) { e.preventDefault(); }); // keep focus in the input
    list.addEventListener('click', function (e) {
      var li = e.target.closest('[role="option"]');
      if (li) go(results[+li.getAttribute('data-index')]);
    });
    return palette;
  }

  function openPalette() {
    buildPalette();
    var open = document.querySelector('dialog[open]');
    if (open && open !== palette) open.close();
    if (!palette.open) {
      if (typeof palette.showModal === 'function') palette.showModal(); else palette.setAttribute('open', '');
    }
    input.value = '';
    input.focus();
    search();
  }

  function pages() {
    var out = [];
    var seen = {};
    document.querySelectorAll('.sidebar nav a[href]').forEach(function (a) {
      var href = a.getAttribute('href');
      if (seen[href]) return;
      seen[href] = true;
      out.push({ kind: 'Page', label: a.textContent.trim(), href: href });
    });
    return out;
  }

  function matches(text, q) { return text.toLowerCase().indexOf(q.toLowerCase()) >= 0; }

  function getJSON(path) {
    return fetch(path, { credentials: 'same-origin', headers: { Accept: 'application/json' } }).then(function (r) {
      if (!r.ok) throw new Error('status ' + r.status);
      return r.json();
    });
  }

  function findItems(q) {
    return getJSON('/api/v1/projects/' + encodeURIComponent(project()) + '/search?q=' + encodeURIComponent(q)).then(function (body) {
      return (body.items || []).slice(0, LIMIT).map(function (it) {
        return { kind: 'Item', label: it.key + ' ' + it.title, href: projectPath('/items/' + encodeURIComponent(it.key)) };
      });
    });
  }

  function findRuns(q) {
    return fetch(projectPath('/runs?name=' + encodeURIComponent(q)), { credentials: 'same-origin' }).then(function (r) {
      if (!r.ok) throw new Error('status ' + r.status);
      return r.text();
    }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, 'text/html');
      var out = [];
      doc.querySelectorAll('#runs-table td.run-name a[href]').forEach(function (a) {
        if (out.length < LIMIT) out.push({ kind: 'Run', label: a.textContent.trim(), href: a.getAttribute('href') });
      });
      return out;
    });
  }

  function findGoals(q) {
    if (!goalsCache) goalsCache = getJSON('/api/v1/projects/' + encodeURIComponent(project()) + '/goals');
    return goalsCache.then(function (body) {
      var out = [];
      (body.goals || []).forEach(function (g) {
        var label = (g.item ? g.item + ': ' : '') + (g.text || g.key || '');
        if (out.length < LIMIT && matches(label, q)) {
          out.push({ kind: 'Goal', label: label, href: g.item ? projectPath('/items/' + encodeURIComponent(g.item)) : projectPath('/goals') });
        }
      });
      return out;
    }, function () { goalsCache = null; return []; });
  }

  function search() {
    timer = null;
    var q = input.value.trim();
    var mine = ++seq;
    var found = pages().filter(function (p) { return !q || matches(p.label, q); });
    inflight = !!(q && project());
    render(found, inflight ? 'Searching…' : '');
    if (!inflight) return settled();
    var none = function () { return []; };
    Promise.all([findItems(q).catch(none), findRuns(q).catch(none), findGoals(q).catch(none)]).then(function (groups) {
      if (mine !== seq) return; // a later query is on its way
      inflight = false;
      render(found.concat(groups[0], groups[1], groups[2]), '');
      settled();
    });
  }

  function settled() {
    if (enterWaits) { enterWaits = false; go(results[chosen]); }
  }

  function render(items, note) {
    results = items;
    chosen = 0;
    list.textContent = '';
    items.forEach(function (r, i) {
      var li = el('li', 'palette-option');
      li.id = 'palette-opt-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('data-index', String(i));
      li.appendChild(el('span', 'palette-kind', r.kind));
      li.appendChild(el('span', 'palette-label', r.label));
      list.appendChild(li);
    });
    if (note || !items.length) {
      var p = el('li', 'palette-note', note || 'Nothing found.');
      p.setAttribute('role', 'presentation');
      list.appendChild(p);
    }
    mark();
  }

  function mark() {
    var opts = list.querySelectorAll('[role="option"]');
    opts.forEach(function (li, i) { li.setAttribute('aria-selected', i === chosen ? 'true' : 'false'); });
    if (opts[chosen]) {
      input.setAttribute('aria-activedescendant', opts[chosen].id);
      opts[chosen].scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  }

  function go(r) {
    if (!r || !palette.open) return;
    palette.close();
    location.assign(r.href);
  }

  function paletteKey(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!results.length) return;
      chosen = (chosen + (e.key === 'ArrowDown' ? 1 : -1) + results.length) % results.length;
      mark();
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (timer || inflight) {
        enterWaits = true;
        if (timer) { clearTimeout(timer); search(); }
        return;
      }
      go(results[chosen]);
    }
  }

  var pendingG = 0;
  function onKey(e) {
    var k = e.key;
    if ((e.metaKey || e.ctrlKey) && !e.altKey && !e.shiftKey && (k === 'k' || k === 'K')) {
      e.preventDefault();
      if (palette && palette.open) palette.close(); else openPalette();
      return;
    }
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (document.querySelector('dialog[open]')) return;
    if (pendingG) {
      var fresh = Date.now() - pendingG < 1000;
      pendingG = 0;
      if (fresh) {
        e.preventDefault(); // an unknown letter after g does nothing, not its own shortcut
        var to = jumpTarget(k);
        if (to) location.assign(to);
        return;
      }
    }
    var done = false;
    if (k === 'g') { pendingG = Date.now(); done = true; }
    else if (k === '/') {
      var box = searchBox();
      if (box) { box.focus(); if (box.select) box.select(); } else openPalette();
      done = true;
    }
    else if (k === 'c') done = newItem();
    else if (k === 'j') done = move(1);
    else if (k === 'k') done = move(-1);
    else if (k === 'Enter') done = openCurrent(e.target);
    if (done) e.preventDefault();
  }

  document.addEventListener('keydown', onKey, true);
})();
