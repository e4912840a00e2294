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
    if (counter) { counter.textContent = String(n); }
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
