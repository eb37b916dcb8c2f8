// The stream's filter box (issue #12): type a stock's name or code, or any words, and the
// page shows only the lines that have them all — on the built site (no server needed) and
// on `finews serve` alike.  No dependency, no inline script (the CSP of #6 allows scripts
// from the site only).  Without JavaScript the box stays hidden: the page is the whole
// stream, and the header's search (on `finews serve`) searches the archive.
// ?q=… in the address filters on load (a filtered view can be linked); the lines the live
// bar puts in are filtered as they arrive.
(function () {
  "use strict";
  var form = document.querySelector("form.filter[hidden]");
  var list = document.querySelector("ul.items");
  if (!form || !list || !("URLSearchParams" in window)) return;
  var input = form.querySelector("input");
  var count = form.querySelector("output");
  // the archive's search is `finews serve`'s (/search): offered where the page is served
  // (the server adds its live script), not on a static host
  var served = document.querySelector("script[src$='_finews/live.js']");
  var all = served ? form.querySelector("a.all") : null;
  var searchBase = all ? all.getAttribute("data-search") : "";
  var none = form.getAttribute("data-none") || "这一页没有符合的消息";
  form.hidden = false;

  function terms() {
    return input.value.trim().toLowerCase().split(/\s+/).filter(Boolean);
  }

  function apply() {
    var wanted = terms();
    var shown = 0;
    var total = 0;
    var day = null;
    var dayShown = false;
    var lines = list.children;
    for (var i = 0; i < lines.length; i++) {
      var li = lines[i];
      if (li.classList.contains("day")) {
        if (day) day.hidden = !dayShown;
        day = li;
        dayShown = false;
        continue;
      }
      total++;
      var text = li.textContent.toLowerCase();
      var ok = wanted.every(function (t) { return text.indexOf(t) >= 0; });
      li.hidden = !ok;
      if (ok) { shown++; dayShown = true; }
    }
    if (day) day.hidden = !dayShown;
    var q = input.value.trim();
    count.textContent = wanted.length
      ? (shown ? "显示 " + shown + " / " + total + " 条" : none)
      : "";
    list.classList.toggle("filtered", wanted.length > 0);
    if (all) {
      all.hidden = !wanted.length;
      all.setAttribute("href", searchBase + "?q=" + encodeURIComponent(q));
    }
    var url = location.pathname + (q ? "?q=" + encodeURIComponent(q) : "") + location.hash;
    if (url !== location.pathname + location.search + location.hash) {
      history.replaceState(history.state, "", url);
    }
  }

  input.addEventListener("input", apply);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    apply();
  });
  document.addEventListener("keydown", function (event) {
    // "/" puts the cursor in the box (as on the anchors' pages), unless typing elsewhere
    var target = event.target;
    var typing = target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName));
    if (event.key === "/" && !typing && !event.ctrlKey && !event.metaKey && !event.altKey) {
      event.preventDefault();
      input.focus();
    }
  });
  new MutationObserver(function () {
    if (terms().length) apply();
  }).observe(list, { childList: true });
  var given = new URLSearchParams(location.search).get("q");
  if (given) {
    input.value = given;
    apply();
  }
})();

// The static build's search page (search/index.html, wave 9): the header's search box leads
// there on a static host, which has no /search.  The words typed come along (?q=…) into its
// boxes, which filter the newest messages or the stock index.  Opened on `finews serve`
// (its live script is on the page), the reader goes on to the archive's real search.
(function () {
  "use strict";
  var boxes = document.querySelectorAll("form.static-search input[name=q]");
  if (!boxes.length || !("URLSearchParams" in window)) return;
  var served = document.querySelector("script[src$='_finews/live.js']");
  if (served) {
    location.replace(served.getAttribute("data-root") + "search" + location.search);
    return;
  }
  var given = new URLSearchParams(location.search).get("q") || "";
  var header = document.querySelector("form.search input[name=q]");
  Array.prototype.forEach.call(boxes, function (box) {
    box.value = given;
  });
  if (header) header.value = given;
  boxes[0].focus();
})();

// A folded text that the width shows whole anyway (a 150-character flash takes eight lines
// on a phone, three on a desktop) says no "展开全文": the marker promises more than there
// is.  Measured, as only the browser knows the width; again when it changes and for the
// lines the live bar puts in.  Without JavaScript every folded text keeps its marker.
(function () {
  "use strict";
  var lists = document.querySelectorAll("ul.items");
  if (!lists.length) return;

  function markAll(root) {
    // every class taken off first, then every height read, then the classes put on: one
    // layout for the list, not one per line
    var folded = Array.prototype.filter.call(root.querySelectorAll("details.text"), function (d) {
      return !d.open;
    });
    folded.forEach(function (d) {
      d.classList.remove("whole");
    });
    var fits = folded.map(function (d) {
      var summary = d.firstElementChild;
      return !!summary && summary.scrollHeight <= summary.clientHeight + 2;
    });
    folded.forEach(function (d, i) {
      if (fits[i]) d.classList.add("whole");
    });
  }

  Array.prototype.forEach.call(lists, function (list) {
    markAll(list);
    new MutationObserver(function () {
      markAll(list);
    }).observe(list, { childList: true });
  });
  var pending = 0;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () {
      Array.prototype.forEach.call(lists, markAll);
    }, 150);
  });
})();
