// cairn console: the little the pages need beyond HTML. Everything added to a page goes in as
// text, never as HTML.
(function () {
  "use strict";

  // Event history: one more attribute row.
  var add = document.getElementById("add-filter");
  var tpl = document.getElementById("filter-template");
  if (add && tpl) {
    add.addEventListener("click", function () {
      var row = tpl.content.firstElementChild.cloneNode(true);
      var n = document.querySelectorAll("#filters .filter").length + 1;
      var sel = row.querySelector("select"), inp = row.querySelector("input");
      var labels = row.querySelectorAll("label");
      sel.id = "attr" + n; inp.id = "value" + n;
      labels[0].htmlFor = sel.id; labels[0].textContent = "Attribute " + n;
      labels[1].htmlFor = inp.id; labels[1].textContent = "Value " + n;
      add.parentNode.insertBefore(row, add);
      sel.focus();
    });
  }

  // Forms that ask before they act (deleting a trail).
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });

  // Event history: live tail, polling for events newer than the newest shown.
  var tail = document.getElementById("tail");
  var table = document.querySelector("#events tbody");
  if (tail && table) {
    var timer = null, status = document.getElementById("tail-status");
    var newest = function () {
      var t = 0;
      table.querySelectorAll("tr[data-time]").forEach(function (r) { t = Math.max(t, +r.getAttribute("data-time") || 0); });
      return t;
    };
    var cell = function (tr, text) { var td = document.createElement("td"); td.textContent = text == null ? "" : String(text); tr.appendChild(td); return td; };
    var poll = function () {
      var q = tail.getAttribute("data-query");
      fetch("/console/cloudtrail/events/tail?" + (q ? q + "&" : "") + "after=" + newest(), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (body) {
          if (body.error) { status.textContent = "Live tail stopped: " + (body.error.message || body.error); stop(); return; }
          var empty = table.querySelector("tr.empty"); if (empty && body.rows.length) { empty.remove(); }
          body.rows.slice().reverse().forEach(function (r) {
            var tr = document.createElement("tr");
            tr.className = "fresh"; tr.setAttribute("data-time", r.time_ms);
            var td = document.createElement("td"), a = document.createElement("a");
            a.href = "/console/cloudtrail/events/" + encodeURIComponent(r.id); a.textContent = r.name; td.appendChild(a); tr.appendChild(td);
            cell(tr, r.time); cell(tr, r.user); cell(tr, r.source); cell(tr, r.resource_type); cell(tr, r.resource_name);
            table.insertBefore(tr, table.firstChild);
          });
          status.textContent = body.rows.length ? body.rows.length + " new event(s)" : "Watching for new events…";
        })
        .catch(function () { status.textContent = "Live tail: connection lost, retrying"; });
    };
    var stop = function () { clearInterval(timer); timer = null; tail.setAttribute("aria-pressed", "false"); };
    tail.addEventListener("click", function () {
      if (timer) { stop(); status.textContent = "Live tail off"; return; }
      tail.setAttribute("aria-pressed", "true"); poll(); timer = setInterval(poll, 2000);
    });
  }
  // Lake query editor: picking another event data store puts its id in the query and the samples.
  var store = document.getElementById("store"), sql = document.getElementById("sql");
  if (store && sql) {
    var current = store.value;
    store.addEventListener("change", function () {
      var next = store.value, swap = function (t) { return t.split(current).join(next); };
      sql.value = swap(sql.value);
      document.querySelectorAll(".samples pre, #samples-store").forEach(function (p) { p.textContent = swap(p.textContent); });
      document.querySelectorAll(".samples a").forEach(function (a) {
        a.href = a.href.replace("store=" + encodeURIComponent(current), "store=" + encodeURIComponent(next));
      });
      current = next;
    });
  }
})();
