// Pushgate web UI behaviour (served as static/pushgate.js, loaded with defer).
//
// The page works without this script (groups expand with <details>, the
// filter is a GET form); the script adds what needs a request method other
// than GET, plus two comforts. Everything hangs off data- attributes, so the
// page needs no inline script and runs under `script-src 'self'`:
//   button[data-method][data-url]  sends that request (URL relative to the
//                                  page, so route prefixes and proxies work),
//                                  after confirm(data-confirm), then reloads;
//   details[data-id]               stays open across reloads (sessionStorage);
//   [data-since]                   relative time, refreshed every 15 s; must
//                                  match src/web/ago.rs.
(function () {
  'use strict';

  var OPEN_KEY = 'pushgate.open';
  var MAX_OPEN = 500;

  function ago(secs) {
    if (secs <= -2) return 'in the future';
    if (secs < 5) return 'just now';
    if (secs < 60) return Math.floor(secs) + 's ago';
    if (secs < 3600) return Math.floor(secs / 60) + 'm ago';
    if (secs < 86400) return Math.floor(secs / 3600) + 'h ago';
    return Math.floor(secs / 86400) + 'd ago';
  }

  // Server time minus browser time, so relative times follow the server's clock.
  var skew = 0;

  function refreshTimes() {
    var now = Date.now() / 1000 + skew;
    document.querySelectorAll('[data-since]').forEach(function (el) {
      var since = Number(el.getAttribute('data-since'));
      if (isFinite(since)) el.textContent = ago(Math.floor(now - since));
    });
  }

  function openIds() {
    try {
      var ids = JSON.parse(sessionStorage.getItem(OPEN_KEY) || '[]');
      return Array.isArray(ids) ? ids : [];
    } catch (e) {
      return [];
    }
  }

  function remember(id, open) {
    var ids = openIds().filter(function (x) { return x !== id; });
    if (open) ids.push(id);
    try {
      sessionStorage.setItem(OPEN_KEY, JSON.stringify(ids.slice(-MAX_OPEN)));
    } catch (e) {
      // Storage full or disabled: expanded panels are just not remembered.
    }
  }

  function send(button) {
    var method = button.getAttribute('data-method');
    var url = button.getAttribute('data-url');
    var question = button.getAttribute('data-confirm');
    if (question && !window.confirm(question)) return;
    button.disabled = true;
    fetch(url, { method: method, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        // Read the (empty) body first: reloading with it unread aborts the request.
        return r.text().then(function (t) {
          if (!r.ok) throw new Error('HTTP ' + r.status + (t ? ': ' + t.trim() : ''));
          window.location.reload();
        });
      })
      .catch(function (e) {
        button.disabled = false;
        window.alert(button.textContent.trim() + ' failed. ' + e.message);
      });
  }

  document.addEventListener('click', function (ev) {
    var button = ev.target.closest && ev.target.closest('button[data-method][data-url]');
    if (!button) return;
    // A button inside <summary> must not also expand or collapse its panel.
    ev.preventDefault();
    ev.stopPropagation();
    send(button);
  });

  // 'toggle' does not bubble; listen in the capture phase.
  document.addEventListener('toggle', function (ev) {
    var d = ev.target;
    if (d && d.getAttribute && d.getAttribute('data-id') !== null) {
      remember(d.getAttribute('data-id'), d.open);
    }
  }, true);

  function init() {
    var serverNow = Number(document.body.getAttribute('data-now'));
    if (isFinite(serverNow) && serverNow > 0) skew = serverNow - Date.now() / 1000;
    var open = openIds();
    if (open.length) {
      var wanted = new Set(open);
      document.querySelectorAll('details[data-id]').forEach(function (d) {
        if (wanted.has(d.getAttribute('data-id'))) d.open = true;
      });
    }
    refreshTimes();
    window.setInterval(refreshTimes, 15000);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
