// finews live updates: lists marked data-live learn of new articles as they are stored.
// Added to pages by `finews serve` only; the static site works without it.
// New items never move the page under the reader's eyes (issue #12): they wait behind an
// "N 条新消息" bar above the list; a click puts them in and keeps the reader's place.
(function () {
  "use strict";
  var me = document.currentScript;
  var root = (me && me.dataset.root) || "/";
  if (!window.EventSource) return;
  var lists = Array.prototype.slice.call(document.querySelectorAll("ul.items[data-live]"));
  var reload = document.querySelector("[data-live-reload]");
  // an article page published within the hour listens too: its full text may still be
  // on its way (show first, complete later: #17) and replaces the list's text in place
  var stamp = document.querySelector("article .meta time[datetime]");
  var fresh = !!stamp && Date.now() - Date.parse(stamp.getAttribute("datetime")) < 3600 * 1000;
  if (!lists.length && !reload && !fresh) return;
  var MAX_ADDED = 100;
  var baseTitle = document.title;

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

  function mediaShown(list, a) {
    // an outlet's own section leaves its name out of its lines (docs/site.md)
    if (list.dataset.live.indexOf("section:") === 0) return a.media !== list.dataset.live.slice(8);
    return !!list.querySelector(".media") || list.dataset.live !== "all";
  }

  function item(a, showMedia) {
    if (a.html) {
      // the line as the site's lists print it, built by the server (escaped there)
      var holder = document.createElement("template");
      holder.innerHTML = a.html;
      var made = holder.content.firstElementChild;
      if (made) {
        // an outlet's own section leaves its name out of its lines (docs/site.md)
        if (!showMedia) {
          Array.prototype.forEach.call(made.querySelectorAll(".tags .media"), function (m) {
            m.remove();
          });
        }
        made.classList.add("live-new");
        made.dataset.id = String(a.id);
        return made;
      }
    }
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

  function shown(list, a) {
    if (list.querySelector('li[data-id="' + a.id + '"]')) return true;
    var href = root + a.path;
    var full = new URL(href, location.href).href;
    return Array.prototype.some.call(list.querySelectorAll("a"), function (link) {
      return link.getAttribute("href") === href || link.href === full;
    });
  }

  function oldest(list) {
    var stamps = list.querySelectorAll("li time[datetime]");
    var last = stamps[stamps.length - 1];
    return last ? Date.parse(last.getAttribute("datetime")) : null;
  }

  // one waiting queue and one bar per list
  var states = lists.map(function (list) {
    var bar = document.createElement("button");
    bar.type = "button";
    bar.className = "live-bar";
    bar.hidden = true;
    bar.setAttribute("aria-live", "polite");
    list.parentNode.insertBefore(bar, list);
    var state = { list: list, bar: bar, waiting: [] };
    bar.addEventListener("click", function () { flush(state); });
    return state;
  });

  function waitingCount() {
    return states.reduce(function (n, s) { return n + s.waiting.length; }, 0);
  }

  function showBar(state) {
    var n = state.waiting.length;
    state.bar.hidden = n === 0;
    state.bar.textContent = n + " 条新消息，点击查看";
    state.bar.dataset.count = String(n);
    var total = waitingCount();
    document.title = total ? "(" + total + ") " + baseTitle : baseTitle;
  }

  function anchorOf(list) {
    // the first item at least partly on screen: what the reader is looking at
    var rows = list.children;
    for (var i = 0; i < rows.length; i += 1) {
      var box = rows[i].getBoundingClientRect();
      if (box.bottom > 0) return rows[i];
    }
    return null;
  }

  var WEEKDAYS = "日一二三四五六";

  // "2026年8月18日 星期二", as the site's lists write a day's line (Beijing dates)
  function dayLabel(day) {
    var p = day.split("-").map(Number);
    var weekday = new Date(Date.UTC(p[0], p[1] - 1, p[2])).getUTCDay();
    return p[0] + "年" + p[1] + "月" + p[2] + "日 星期" + WEEKDAYS.charAt(weekday);
  }

  // a list that separates its days gets a line for the day of an item put in above every
  // line of that day (wave 12: flashes after midnight sat under the previous day's line)
  function dayLineAbove(list, made, day) {
    if (!list.querySelector("li.day")) return;
    var above = made.previousElementSibling;
    while (above && !above.classList.contains("day")) above = above.previousElementSibling;
    if (above && above.dataset.day === day) return;
    var line = document.createElement("li");
    line.className = "day";
    line.dataset.day = day;
    line.textContent = dayLabel(day);
    list.insertBefore(line, made);
  }

  function flush(state) {
    var list = state.list;
    var anchor = anchorOf(list);
    var listTop = list.getBoundingClientRect().top;
    var before = anchor ? anchor.getBoundingClientRect().top : 0;
    // newest first: each goes in front of the first item older than it
    state.waiting.sort(function (x, y) { return Date.parse(x.time) - Date.parse(y.time); });
    state.waiting.forEach(function (a) {
      if (shown(list, a)) return;
      var when = Date.parse(a.time);
      var rows = list.querySelectorAll("li:not(.day)");
      var at = null;
      for (var i = 0; i < rows.length; i += 1) {
        var stamp = rows[i].querySelector("time[datetime]");
        if (stamp && Date.parse(stamp.getAttribute("datetime")) <= when) { at = rows[i]; break; }
      }
      // a date separator above that place belongs to an older day: the item goes above it
      var prev = at && at.previousElementSibling;
      if (prev && prev.classList.contains("day") && prev.dataset.day !== a.time.slice(0, 10)) {
        at = prev;
      }
      var made = item(a, mediaShown(list, a));
      list.insertBefore(made, at);
      dayLineAbove(list, made, a.time.slice(0, 10));
    });
    state.waiting = [];
    var added = list.querySelectorAll("li.live-new");
    for (var k = MAX_ADDED; k < added.length && list.lastElementChild; k += 1) {
      list.removeChild(list.lastElementChild);
    }
    // a reader scrolled down into the list keeps the line they were reading where it was;
    // one at its top sees the new items appear there
    if (anchor && listTop < 0) {
      var moved = anchor.getBoundingClientRect().top - before;
      if (moved) window.scrollBy(0, moved);
    }
    showBar(state);
    document.dispatchEvent(new CustomEvent("finews:inserted", { detail: { list: list } }));
  }

  // a new report of a story a list already shows: that line's heat chip says it at once
  // (the report itself is left out of lists that tell each story once, #10)
  function refreshHeat(a) {
    if (!a.story || !a.html) return;
    var holder = document.createElement("template");
    holder.innerHTML = a.html;
    var chip = holder.content.querySelector("a.heat");
    if (!chip) return;
    var story = new URL(root + a.story, location.href).href;
    var first = a.story_first ? new URL(root + a.story_first, location.href).href : "";
    lists.forEach(function (list) {
      Array.prototype.forEach.call(list.querySelectorAll("li:not(.day)"), function (li) {
        if (li.dataset.id === String(a.id)) return;
        var old = li.querySelector("a.heat");
        var link = li.querySelector("a");
        var ours = old ? old.href === story : !!first && !!link && link.href === first;
        var tags = li.querySelector(".tags");
        if (!ours || !tags) return;
        var fresh = chip.cloneNode(true);
        if (old) old.replaceWith(fresh);
        else tags.appendChild(fresh);
      });
    });
  }

  var source = new EventSource(root + "api/stream");
  source.addEventListener("open", function () {
    document.documentElement.dataset.live = "connected";
  });
  source.addEventListener("article", function (event) {
    var a = JSON.parse(event.data);
    if (a.reprint) refreshHeat(a);
    if (reload) {
      // a page without articles yet: the next build will have them
      setTimeout(function () { location.reload(); }, 4000);
      reload = null;
    }
    states.forEach(function (state) {
      var list = state.list;
      if (!wanted(list, a) || shown(list, a)) return;
      if (state.waiting.some(function (w) { return w.id === a.id; })) return;
      // an item older than everything the page shows is not news for this list
      var last = oldest(list);
      if (last !== null && Date.parse(a.time) < last) return;
      state.waiting.push(a);
      showBar(state);
    });
    document.dispatchEvent(new CustomEvent("finews:article", { detail: a }));
  });
  // an article shown before its full text: the same row, completed (#17)
  source.addEventListener("update", function (event) {
    var a = JSON.parse(event.data);
    var href = root + a.path;
    var absolute = new URL(href, location.href).href;
    lists.forEach(function (list) {
      Array.prototype.forEach.call(list.querySelectorAll("li:not(.day)"), function (li) {
        var link = li.querySelector("a");
        if (!link || (li.dataset.id !== String(a.id) && link.href !== absolute)) return;
        if (a.html) {
          // the stream line again, as the server builds it (title, text, chips: #12)
          var section = list.dataset.live.indexOf("section:") === 0;
          var showMedia = section ? mediaShown(list, a) : !!li.querySelector(".media") || mediaShown(list, a);
          var made = item(a, showMedia);
          made.classList.remove("live-new");
          made.dataset.complete = String(a.complete);
          li.replaceWith(made);
          return;
        }
        if (link.textContent !== a.title) link.textContent = a.title;
        li.dataset.complete = String(a.complete);
      });
    });
    states.forEach(function (state) {  // one still waiting behind the bar: the newer one
      state.waiting = state.waiting.map(function (w) { return w.id === a.id ? a : w; });
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
