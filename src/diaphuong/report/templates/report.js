(function () {
  "use strict";
  var H = document.documentElement;
  var D = JSON.parse(document.getElementById("grid-data").textContent);
  var fmts = {};

  function lang() { return H.lang === "en" ? "en" : "vi"; }
  function L2(pair) { return pair[lang() === "en" ? 1 : 0]; }
  function fmt(v, d, fixed) {
    var k = lang() + d + (fixed ? "x" : "");
    if (!fmts[k]) {
      fmts[k] = new Intl.NumberFormat(lang() === "en" ? "en-US" : "vi-VN",
        { maximumFractionDigits: d, minimumFractionDigits: fixed ? d : 0 });
    }
    return fmts[k].format(v);
  }
  function S(i) { return typeof i === "number" ? D.s[i] : null; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  // ---------------------------------------------------------------- language switch
  function renumber() {
    var nums = document.querySelectorAll(".num");
    for (var i = 0; i < nums.length; i++) {
      var n = nums[i];
      n.textContent = fmt(parseFloat(n.getAttribute("data-v")), +n.getAttribute("data-d"), n.hasAttribute("data-x"));
    }
  }
  function setLang(l) {
    H.lang = l;
    try { localStorage.setItem("diaphuong-lang", l); } catch (e) { }
    renumber();
    var title = document.querySelector("title");
    if (title && title.getAttribute("data-" + l)) document.title = title.getAttribute("data-" + l);
    if (pinned) show(pinned[0], pinned[1], detailBox);
  }
  document.getElementById("lang-toggle").addEventListener("click", function () {
    setLang(lang() === "vi" ? "en" : "vi");
  });

  // ---------------------------------------------------------------- grid detail
  var grid = document.getElementById("grid");
  var tip = document.getElementById("tip");
  var detailBox = document.getElementById("cell-detail-body");
  var detailPanel = document.getElementById("cell-detail");
  var pinned = null;

  function show(ri, ci, box) {
    var col = D.cols[ci], row = D.rows[ri];
    var td = grid.tBodies[0].rows[ri].cells[ci + 1];
    var code = td.className.split(" ")[0];
    var rec = D.cells[ri + "." + ci] || [];
    box.textContent = "";
    var head = el("div", "dh");
    head.appendChild(el("b", null, row[0] + " · " + row[1]));
    head.appendChild(el("div", null, (lang() === "en" ? col[3] : col[2]) + " — " + (lang() === "en" ? col[5] : col[4])));
    box.appendChild(head);
    var dl = el("dl");
    function add(label, value) {
      if (value === undefined || value === null || value === "") return;
      dl.appendChild(el("dt", null, L2(D.L[label])));
      dl.appendChild(el("dd", null, value));
    }
    var unit = rec[8] ? " " + (D.u[rec[8]] ? L2(D.u[rec[8]]) : rec[8]) : "";
    add("status", D.st[code] ? L2(D.st[code]) : "—");
    if (typeof rec[0] === "number") add("value", fmt(rec[0], 2) + unit);
    if (typeof rec[1] === "number") add("text_value", fmt(rec[1], 2) + unit);
    add("original", rec[5]);
    if (rec[6]) add("obs_status", rec[6] + (D.os[rec[6]] ? " — " + L2(D.os[rec[6]]) : ""));
    add("detail", S(rec[2]));
    var src = [];
    if (S(rec[4])) src.push(S(rec[4]));
    if (S(rec[3])) src.push(S(rec[3]));
    add("source", src.join(" · "));
    add("sentence", S(rec[7]));
    box.appendChild(dl);
  }
  function cellPos(t) {
    if (!t || t.tagName !== "TD") return null;
    var tr = t.parentNode;
    if (!tr || tr.parentNode !== grid.tBodies[0]) return null;
    return [tr.sectionRowIndex, t.cellIndex - 1];
  }
  grid.addEventListener("mouseover", function (e) {
    var p = cellPos(e.target);
    if (!p) { tip.hidden = true; return; }
    show(p[0], p[1], tip);
    tip.hidden = false;
    var r = e.target.getBoundingClientRect();
    var x = r.right + 8, y = r.top;
    if (x + 340 > window.innerWidth) x = Math.max(4, r.left - 348);
    if (y + tip.offsetHeight > window.innerHeight) y = Math.max(4, window.innerHeight - tip.offsetHeight - 4);
    tip.style.left = x + "px";
    tip.style.top = y + "px";
  });
  grid.addEventListener("mouseleave", function () { tip.hidden = true; });
  grid.addEventListener("click", function (e) {
    var p = cellPos(e.target);
    if (!p) return;
    var prev = grid.querySelector("td.sel");
    if (prev) prev.classList.remove("sel");
    e.target.classList.add("sel");
    pinned = p;
    show(p[0], p[1], detailBox);
    detailPanel.hidden = false;
  });
  document.getElementById("cell-detail-close").addEventListener("click", function () {
    detailPanel.hidden = true;
    pinned = null;
    var prev = grid.querySelector("td.sel");
    if (prev) prev.classList.remove("sel");
  });

  // ---------------------------------------------------------------- sortable tables
  function sortBy(table, idx, th) {
    var tb = table.tBodies[0], rows = Array.prototype.slice.call(tb.rows);
    var dir = th.getAttribute("data-dir") === "asc" ? "desc" : "asc";
    var ths = table.tHead.querySelectorAll("th");
    for (var i = 0; i < ths.length; i++) ths[i].removeAttribute("data-dir");
    th.setAttribute("data-dir", dir);
    var numeric = rows.every(function (r) {
      var v = r.cells[idx].getAttribute("data-v");
      return v === null || v === "" || !isNaN(parseFloat(v));
    });
    rows.sort(function (a, b) {
      var x = a.cells[idx].getAttribute("data-v"), y = b.cells[idx].getAttribute("data-v");
      if (x === null) x = a.cells[idx].textContent;
      if (y === null) y = b.cells[idx].textContent;
      var c;
      if (numeric) {
        var fx = x === "" ? -Infinity : parseFloat(x), fy = y === "" ? -Infinity : parseFloat(y);
        c = fx - fy;
      } else {
        c = x.localeCompare(y, "vi");
      }
      return dir === "asc" ? c : -c;
    });
    rows.forEach(function (r) { tb.appendChild(r); });
  }
  var sortables = document.querySelectorAll("table.sortable");
  Array.prototype.forEach.call(sortables, function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, idx) {
      th.addEventListener("click", function () { sortBy(table, idx, th); });
    });
  });

  // ---------------------------------------------------------------- province filter
  function fold(s) {
    return s.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/[đĐ]/g, "d").toLowerCase();
  }
  var filter = document.getElementById("province-filter");
  filter.addEventListener("input", function () {
    var q = fold(filter.value.trim());
    var rows = document.querySelectorAll("tr[data-p]");
    for (var i = 0; i < rows.length; i++) {
      rows[i].hidden = q !== "" && fold(rows[i].getAttribute("data-p")).indexOf(q) < 0;
    }
  });

  if (lang() !== "vi") setLang(lang());

  // ---------------------------------------------------------------- self-test (#selftest, used by the browser test)
  if (/selftest/.test(location.hash)) {
    var res = [];
    var td = grid.querySelector("tbody td:not(.x)");
    if (td) {
      td.dispatchEvent(new MouseEvent("mouseover", { bubbles: true }));
      res.push(tip.hidden || !tip.textContent ? "tip-empty" : "tip");
      td.click();
      res.push(detailPanel.hidden || !detailBox.textContent ? "detail-empty" : "detail");
    }
    var sc = document.getElementById("scorecard");
    var th = sc.tHead.rows[0].cells[4];
    th.click();
    var first = sc.tBodies[0].rows[0].cells[4].getAttribute("data-v");
    th.click();
    res.push(th.getAttribute("data-dir") === "desc" ? "sorted" : "unsorted");
    var n = document.querySelector(".num[data-x]");
    var before = n ? n.textContent : "";
    setLang(lang() === "vi" ? "en" : "vi");
    res.push((n && n.textContent !== before) || !n ? "renumbered" : "not-renumbered");
    setLang(lang() === "vi" ? "en" : "vi");
    H.setAttribute("data-selftest", res.join(" ") + " first=" + first);
  }
  H.setAttribute("data-ready", "1");
})();
