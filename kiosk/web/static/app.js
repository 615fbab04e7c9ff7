// The cart's page, live: Server-Sent Events say "something changed", the page
// fetches its region again (at most a few times a second), and a sync shows its
// progress. Without JavaScript the pages still work; they just do not move.
(function () {
  "use strict";
  var region = document.getElementById("live");
  var state = document.getElementById("live-state");
  var url = region && region.getAttribute("data-region");
  var timer = null, busy = false, again = false;

  function mark(on) {
    if (!state) return;
    state.textContent = state.getAttribute(on ? "data-on" : "data-off");
    state.className = on ? "on" : "";
  }

  function refresh() {
    timer = null;
    if (!url) return;
    if (busy) { again = true; return; }
    busy = true;
    fetch(url, {credentials: "same-origin", cache: "no-store"}).then(function (r) {
      if (r.status === 401) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (html) {
      if (html !== null && html !== undefined) {
        region.innerHTML = html;
        region.setAttribute("data-updated", String(Date.now()));
      }
    }).catch(function () {}).then(function () {
      busy = false;
      if (again) { again = false; soon(); }
    });
  }

  function soon() { if (timer === null) timer = setTimeout(refresh, 250); }

  function progress(ev) {
    var box = document.getElementById("sync-progress");
    if (!box) return;
    var p = JSON.parse(ev.data);
    if (p.done >= p.total) { box.textContent = ""; soon(); return; }
    box.innerHTML = "";
    var bar = document.createElement("progress");
    bar.max = Math.max(p.total, 1); bar.value = p.done;
    box.appendChild(bar);
    box.appendChild(document.createTextNode(" " + p.done + " / " + p.total));
  }

  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.hasAttribute && ev.target.hasAttribute("data-print")) {
      window.print();
    }
  });

  if (!window.EventSource) return;
  var source = new EventSource("/events");
  // What changed before the stream (re)opened sent no event: fetch it once now.
  source.onopen = function () { mark(true); soon(); };
  source.onerror = function () { mark(false); };
  ["scan", "status", "reload"].forEach(function (name) {
    source.addEventListener(name, soon);
  });
  source.addEventListener("sync", progress);
  window.addEventListener("pagehide", function () { source.close(); });
})();
