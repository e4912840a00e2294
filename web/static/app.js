// The pages' own script, a convenience only: every form works without it.
// Roll call: one key per student (P, L, E, A) that marks and moves on, J/K or the arrows to
// move, the unmarked count kept up to date, and a changed existing mark asks for a reason.
(function () {
  'use strict';
  var form = document.getElementById('rollcall');
  if (!form) { return; }
  var selects = Array.prototype.slice.call(form.querySelectorAll('select[data-was]'));
  var counter = document.getElementById('unmarked-count');
  var keys = { p: 'present', l: 'late', e: 'excused', a: 'absent' };

  function count() {
    var n = 0;
    selects.forEach(function (s) { if (!s.value) { n += 1; } });
    if (!counter) { return; }
    var digits = counter.dataset.digits || '0123456789';
    counter.textContent = String(n).replace(/[0-9]/g, function (d) { return digits.charAt(Number(d)); });
  }
  function needsReason(s) {
    var reason = document.getElementById('r-' + s.id.slice(2));
    if (!reason) { return; }
    var changed = s.dataset.was !== '' && s.value !== s.dataset.was;
    reason.required = changed;
    reason.setAttribute('aria-invalid', changed && !reason.value ? 'true' : 'false');
  }
  function move(from, by) {
    var i = selects.indexOf(from) + by;
    if (i >= 0 && i < selects.length) { selects[i].focus(); }
  }
  selects.forEach(function (s) {
    s.addEventListener('keydown', function (ev) {
      if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
      var k = ev.key.toLowerCase();
      if (keys[k]) {
        ev.preventDefault();
        s.value = keys[k];
        s.dispatchEvent(new Event('change', { bubbles: true }));
        move(s, 1);
      } else if (k === 'j' || k === 'arrowdown') {
        ev.preventDefault();
        move(s, 1);
      } else if (k === 'k' || k === 'arrowup') {
        ev.preventDefault();
        move(s, -1);
      }
    });
    s.addEventListener('change', function () { count(); needsReason(s); });
    s.addEventListener('focus', function () { s.closest('tr').classList.add('current'); });
    s.addEventListener('blur', function () { s.closest('tr').classList.remove('current'); });
  });
  count();
}());

// Live updates: the page listens to its server-sent events (one per stored event of this
// register or course) and fetches its marks or its statistics with min_position = the
// event's position, so "updated just now" shows only once the read model holds the event.
// A control the teacher has changed on the page is never overwritten.
(function () {
  'use strict';
  var live = document.getElementById('live');
  if (!live || !window.EventSource || !window.fetch) { return; }
  var wanted = -1;
  var busy = false;

  function updated() { live.textContent = live.dataset.updated; }

  function reasonInput(select, id) {
    var cell = document.getElementById('rc-' + id);
    if (!cell || document.getElementById('r-' + id)) { return; }
    var input = document.createElement('input');
    input.id = 'r-' + id;
    input.name = 'r.' + id;
    input.maxLength = 500;
    input.setAttribute('aria-label', live.dataset.reasonLabel + ': ' + select.dataset.name);
    cell.appendChild(input);
  }

  function applyMarks(answer) {
    if (!answer.caught_up) { return false; }
    var state = document.getElementById('register-state');
    if (state && answer.state) { state.textContent = answer.state; }
    Object.keys(answer.marks).forEach(function (id) {
      var select = document.getElementById('m-' + id);
      var now = answer.marks[id];
      if (!select || select.value !== select.dataset.was || now === select.dataset.was) { return; }
      select.dataset.was = now;
      select.value = now;
      var was = select.form.elements['w.' + id];
      if (was) { was.value = now; }
      if (now) { reasonInput(select, id); }
      select.dispatchEvent(new Event('change', { bubbles: true }));
    });
    return true;
  }

  function applyStatistics(html) {
    var holder = document.createElement('template');
    holder.innerHTML = html;
    var fresh = holder.content.getElementById('stats-table');
    var old = document.getElementById('stats-table');
    if (!fresh || !old || fresh.dataset.caughtUp !== 'true') { return false; }
    old.replaceWith(fresh);
    return true;
  }

  function fetchOnce(position) {
    var url = (live.dataset.marks || live.dataset.fragment) +
      (position > 0 ? '?min_position=' + position : '');
    return fetch(url, { credentials: 'same-origin', cache: 'no-store' }).then(function (r) {
      if (!r.ok) { throw new Error(String(r.status)); }
      return live.dataset.marks ? r.json().then(applyMarks) : r.text().then(applyStatistics);
    });
  }

  function pull() {
    if (busy || wanted < 0) { return; }
    busy = true;
    var position = wanted;
    wanted = -1;
    fetchOnce(position).then(function (caughtUp) {
      if (caughtUp) { updated(); } else if (wanted < position) { wanted = position; }
    }).catch(function () {
      if (wanted < position) { wanted = position; }
    }).then(function () {
      busy = false;
      if (wanted >= 0) { setTimeout(pull, 250); }
    });
  }

  var source = new EventSource(live.dataset.feed);
  source.addEventListener('change', function (ev) {
    wanted = Math.max(wanted, Number(ev.data) || 0);
    pull();
  });
}());
