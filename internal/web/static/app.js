// Trellis UI behaviour: theme, keyboard shortcuts, copy buttons and the glue
// that makes htmx partial updates show errors. Plain ES2017, no framework.
// It is loaded synchronously in <head> so that the stored theme applies
// before the first paint; everything touching the page waits for
// DOMContentLoaded. The CSP forbids inline script, so all behaviour lives
// here and templates only carry data-* attributes.
(function () {
  'use strict';

  var root = document.documentElement;
  var THEME_KEY = 'trellis-theme';

  function storedTheme() {
    try { return localStorage.getItem(THEME_KEY); } catch (e) { return null; }
  }

  function applyTheme(theme) {
    if (theme === 'light' || theme === 'dark') root.setAttribute('data-theme', theme);
    else root.removeAttribute('data-theme');
  }

  function effectiveTheme() {
    var t = root.getAttribute('data-theme');
    if (t) return t;
    return window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
  }

  function labelThemeButtons() {
    var next = effectiveTheme() === 'dark' ? 'light' : 'dark';
    document.querySelectorAll('[data-theme-toggle]').forEach(function (b) {
      b.setAttribute('aria-label', 'Switch to ' + next + ' theme');
      b.setAttribute('title', 'Switch to ' + next + ' theme (t)');
    });
  }

  function toggleTheme() {
    var next = effectiveTheme() === 'dark' ? 'light' : 'dark';
    applyTheme(next);
    try { localStorage.setItem(THEME_KEY, next); } catch (e) { /* private mode: theme lasts this page */ }
    labelThemeButtons();
  }

  applyTheme(storedTheme());

  // Toast: one line of feedback for actions that did not re-render a page.
  var toastTimer = null;
  function toast(message) {
    var el = document.getElementById('toast');
    if (!el) return;
    el.textContent = message;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 6000);
  }

  function copyText(text, button) {
    function done() {
      var label = button.textContent;
      button.textContent = 'Copied';
      setTimeout(function () { button.textContent = label; }, 1500);
    }
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () { toast('Could not copy; select the text and copy it by hand.'); });
      return;
    }
    // Plain-HTTP deployments have no Clipboard API; fall back to a selection.
    var area = document.createElement('textarea');
    area.value = text;
    area.setAttribute('readonly', '');
    area.className = 'visually-hidden';
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
    document.body.removeChild(area);
    if (ok) done(); else toast('Could not copy; select the text and copy it by hand.');
  }

  function openShortcuts() {
    var d = document.getElementById('shortcuts');
    if (d && typeof d.showModal === 'function' && !d.open) d.showModal();
  }

  function typing(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName;
    return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || target.isContentEditable;
  }

  function onKey(e) {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
    if (document.querySelector('dialog[open]')) return;
    // Navigation keys (g …, /, c, j/k, Cmd/Ctrl-K) live in keys.js, which
    // sees them first; this handles the help and the theme.
    var k = e.key;
    if (k === '?') { e.preventDefault(); openShortcuts(); return; }
    if (k === 't') { e.preventDefault(); toggleTheme(); }
  }

  function onClick(e) {
    var t = e.target.closest && e.target.closest('[data-theme-toggle], [data-shortcuts], [data-copy]');
    if (!t) return;
    if (t.hasAttribute('data-theme-toggle')) { toggleTheme(); return; }
    if (t.hasAttribute('data-shortcuts')) { openShortcuts(); return; }
    var src = document.getElementById(t.getAttribute('data-copy'));
    if (src) copyText((src.value || src.textContent || '').trim(), t);
  }

  // htmx glue. The server answers a refused form with the page re-rendered
  // at 4xx; swap it like a success so the message appears where the user
  // looks. Error responses meant as notices are text/plain.
  function onBeforeSwap(e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr) return;
    var type = xhr.getResponseHeader('Content-Type') || '';
    if (xhr.status >= 400 && xhr.status < 500 && type.indexOf('text/html') === 0) {
      e.detail.shouldSwap = true;
      e.detail.isError = false;
    }
  }

  function onResponseError(e) {
    var xhr = e.detail && e.detail.xhr;
    if (!xhr) return;
    var type = xhr.getResponseHeader('Content-Type') || '';
    if (type.indexOf('text/plain') === 0 && xhr.responseText) toast(xhr.responseText.slice(0, 300));
    else toast('The request failed (status ' + xhr.status + '). Reload the page and try again.');
  }

  // Refused forms. The server re-renders a refused form with what was
  // typed, aria-invalid="true" on each field it refused and the message
  // beside it (aria-describedby), or a role="alert" message when the whole
  // form was refused. Bring the first of them into view and focus it, on a
  // page load and after an htmx swap alike, so the error is where the eye is.
  function focusFirstError(scope) {
    var el = scope.querySelector('[aria-invalid="true"]');
    if (!el) {
      el = scope.querySelector('.alert[role="alert"]');
      if (!el) return;
      if (!el.hasAttribute('tabindex')) el.setAttribute('tabindex', '-1');
    }
    if (el.hidden || el.type === 'hidden') return;
    el.scrollIntoView({ block: 'center' });
    el.focus({ preventScroll: true });
  }

  // "New item" links to #new-item: the form opens with Title focused, as
  // Jira's and Linear's create dialogs do, unless a refused field already
  // took the focus.
  function focusNewItem() {
    if (location.hash !== '#new-item' || document.querySelector('[aria-invalid="true"]')) return;
    var title = document.querySelector('#new-item input[name="title"]');
    if (title) title.focus();
  }

  function onAfterSettle(e) {
    var xhr = e.detail && e.detail.xhr;
    if (xhr && xhr.status >= 400 && xhr.status < 500) focusFirstError(document);
  }

  // Destructive actions ask first. A form (or its submit button) carries
  // data-confirm="Revoke token ci-bot? Scripts using it stop working at
  // once."; the question opens in a dialog whose confirm button repeats the
  // submit button's words. Without JavaScript the button simply posts.
  var confirmDialog = null;
  var confirmed = null; // the form whose question was just answered yes

  function confirmBox() {
    if (confirmDialog) return confirmDialog;
    var d = document.createElement('dialog');
    d.className = 'dialog confirm-dialog';
    d.setAttribute('aria-labelledby', 'confirm-text');
    var f = document.createElement('form');
    f.method = 'dialog';
    var p = document.createElement('p');
    p.id = 'confirm-text';
    var row = document.createElement('div');
    row.className = 'dialog-actions row';
    var cancel = document.createElement('button');
    cancel.value = 'cancel';
    cancel.className = 'ghost';
    cancel.textContent = 'Cancel';
    cancel.setAttribute('data-confirm-cancel', '');
    var ok = document.createElement('button');
    ok.value = 'ok';
    ok.className = 'danger';
    ok.setAttribute('data-confirm-ok', '');
    row.appendChild(cancel);
    row.appendChild(ok);
    f.appendChild(p);
    f.appendChild(row);
    d.appendChild(f);
    document.body.appendChild(d);
    confirmDialog = d;
    return d;
  }

  function onSubmit(e) {
    var form = e.target;
    var button = e.submitter || null;
    var question = (button && button.getAttribute('data-confirm')) || form.getAttribute('data-confirm');
    if (!question) return;
    if (confirmed === form) { confirmed = null; return; }
    var d = confirmBox();
    if (typeof d.showModal !== 'function') {
      if (!window.confirm(question)) { e.preventDefault(); e.stopImmediatePropagation(); }
      return;
    }
    // Stop the post here, before htmx (listening on the form) sees it.
    e.preventDefault();
    e.stopImmediatePropagation();
    d.querySelector('#confirm-text').textContent = question;
    d.querySelector('[data-confirm-ok]').textContent = (button && button.textContent.trim()) || 'Confirm';
    d.returnValue = '';
    d.onclose = function () {
      d.onclose = null;
      if (d.returnValue !== 'ok') return;
      confirmed = form;
      if (typeof form.requestSubmit === 'function') form.requestSubmit(button && button.form === form ? button : undefined);
      else { confirmed = null; form.submit(); }
    };
    d.showModal();
    d.querySelector('[data-confirm-cancel]').focus();
  }

  document.addEventListener('submit', onSubmit, true);
  document.addEventListener('keydown', onKey);
  document.addEventListener('click', onClick);
  document.addEventListener('htmx:beforeSwap', onBeforeSwap);
  document.addEventListener('htmx:responseError', onResponseError);
  document.addEventListener('htmx:afterSettle', onAfterSettle);
  document.addEventListener('htmx:sendError', function () { toast('The server could not be reached. Check your connection and try again.'); });
  document.addEventListener('DOMContentLoaded', function () {
    // htmx is deferred, so it has run by now if it is vendored at all;
    // without it, forms keep their plain submit buttons.
    if (window.htmx) {
      root.classList.add('htmx');
      // htmx re-applies style attributes while settling a swap; the CSP
      // forbids style attributes, so any that a browser extension or test
      // driver left behind would log a violation. Trellis never sets them.
      window.htmx.config.attributesToSettle = ['class', 'width', 'height'];
    }
    labelThemeButtons();
    focusFirstError(document);
    focusNewItem();
  });
  // A page opened at #new-item scrolls to it after DOMContentLoaded, and
  // that fragment scroll drops the focus; take it again once loaded.
  window.addEventListener('load', focusNewItem);
  window.addEventListener('hashchange', focusNewItem);
  if (window.matchMedia) {
    var mq = window.matchMedia('(prefers-color-scheme: dark)');
    if (mq.addEventListener) mq.addEventListener('change', labelThemeButtons);
  }
})();
