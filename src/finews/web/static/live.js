// finews live updates: lists marked data-live get new articles as they are stored.
// Added to pages by `finews serve` only; the static site works without it.
(function () {
  "use strict";
  var me = document.currentScript;
  var root = (me && me.dataset.root) || "/";
  var lists = Array.prototype.slice.call(document.querySelectorAll("ul.items[data-live]"));
  // an article page published within the hour listens too: its full text may still be
  // on its way (show first, complete later: #17) and replaces the list's text in place
  var stamp = document.querySelector("article .meta time[datetime]");
  var fresh = !!stamp && Date.now() - Date.parse(stamp.getAttribute("datetime")) < 3600 * 1000;
  if ((!lists.length && !fresh) || !window.EventSource) return;
  var MAX_ADDED = 100;

  function wanted(list, a) {
    var scope = list.dataset.live;
    if (scope === "all") return !a.reprint;
    // 要闻 and stock pages tell each story once (issue #10): live, a report that is not the
    // one that started its story is left out (the static pages keep each story's newest)
    if (scope === "important") return a.important && !a.reprint;
    if (scope.indexOf("section:") === 0) return a.section === scope.slice(8);
    if (scope.indexOf("stock:") === 0) return !a.reprint && a.stocks.indexOf(scope.slice(6)) >= 0;
    return false;
  }

  function item(a, showMedia) {
    var li = document.createElement("li");
    li.className = "live-new" + (a.important ? " important" : "");
    li.dataset.id = String(a.id);
    var time = document.createElement("time");
    time.dateTime = a.time;
    time.textContent = a.short_time;
    var span = document.createElement("span");
    var link = document.createElement("a");
    link.href = root + a.path;
    link.textContent = a.title;
    span.appendChild(link);
    if (showMedia) {
      var media = document.createElement("span");
      media.className = "media";
      media.textContent = a.media;
      span.appendChild(media);
    }
    li.appendChild(time);
    li.appendChild(span);
    return li;
  }

  var source = new EventSource(root + "api/stream");
  source.addEventListener("open", function () {
    document.documentElement.dataset.live = "connected";
  });
  source.addEventListener("article", function (event) {
    var a = JSON.parse(event.data);
    lists.forEach(function (list) {
      if (!wanted(list, a) || list.querySelector('li[data-id="' + a.id + '"]')) return;
      var href = root + a.path;
      var known = Array.prototype.some.call(list.querySelectorAll("a"), function (link) {
        return link.getAttribute("href") === href || link.href === new URL(href, location.href).href;
      });
      if (known) return; // already on the page (a replayed event, or the page was rebuilt)
      // newest first: the item goes before the first one older than it; an item older
      // than everything shown is not news for this list (the page chose its newest)
      var when = Date.parse(a.time);
      var rows = list.querySelectorAll("li");
      var before = null;
      for (var i = 0; i < rows.length; i += 1) {
        var stamp = rows[i].querySelector("time");
        if (stamp && Date.parse(stamp.dateTime || stamp.getAttribute("datetime")) < when) {
          before = rows[i];
          break;
        }
      }
      if (!before && rows.length) return;
      var showMedia = !!list.querySelector(".media") || list.dataset.live !== "all";
      list.insertBefore(item(a, showMedia), before);
      var added = list.querySelectorAll("li.live-new, li[data-id]");
      if (added.length > MAX_ADDED && list.lastElementChild) list.removeChild(list.lastElementChild);
    });
    document.dispatchEvent(new CustomEvent("finews:article", { detail: a }));
  });
  // an article shown before its full text: the same row, completed (#17)
  source.addEventListener("update", function (event) {
    var a = JSON.parse(event.data);
    var href = root + a.path;
    var absolute = new URL(href, location.href).href;
    lists.forEach(function (list) {
      Array.prototype.forEach.call(list.querySelectorAll("li"), function (li) {
        var link = li.querySelector("a");
        if (!link || (li.dataset.id !== String(a.id) && link.href !== absolute)) return;
        if (link.textContent !== a.title) link.textContent = a.title;
        li.dataset.complete = String(a.complete);
      });
    });
    var here = location.pathname;
    if (a.complete && here.slice(here.length - a.path.length - 1) === "/" + a.path) {
      var url = root + "api/articles/" + encodeURIComponent(a.source) + "/" +
        encodeURIComponent(a.upstream_id);
      fetch(url, { headers: { Accept: "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (full) {
          var body = document.querySelector("article .body");
          if (!full || !body) return;
          body.innerHTML = full.body_html; // cleaned by the server; CSP runs no inline script
          body.dataset.complete = "true";
          var h1 = document.querySelector("article h1");
          if (h1 && full.title && h1.textContent.indexOf(full.title) < 0) h1.lastChild.textContent = full.title;
        });
    }
    document.dispatchEvent(new CustomEvent("finews:update", { detail: a }));
  });
})();
