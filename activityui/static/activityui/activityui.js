// activityui: small progressive enhancements; everything works without this file.
// No eval, no inline handlers: htmx runs with allowEval false under a nonce-based CSP.
(function () {
  "use strict";
  // lets the stylesheet hide controls that only matter without JavaScript
  document.documentElement.classList.add("aui-js");

  // --- feed: polling sentinels -------------------------------------------------------
  // A sentinel is an element with data-aui-poll="<seconds>" and hx-trigger="aui:poll".
  // We send it "aui:poll" on a timer, only while the tab is visible (and once right away
  // when the tab comes back after its interval has passed). A failed poll backs off quietly
  // and retries; a sentinel that the server swaps out simply stops being polled.
  var lastPoll = new WeakMap();
  var backoff = new WeakMap();
  var MAX_BACKOFF = 8;

  function dueSentinels(now) {
    var due = [];
    document.querySelectorAll("[data-aui-poll]").forEach(function (elt) {
      var seconds = parseFloat(elt.getAttribute("data-aui-poll"));
      if (!(seconds > 0)) return;
      if (!lastPoll.has(elt)) lastPoll.set(elt, now); // first poll one interval after load
      var wait = seconds * 1000 * (backoff.get(elt) || 1);
      if (now - lastPoll.get(elt) >= wait) due.push(elt);
    });
    return due;
  }

  // "N new activities" clicked: its answer brings the new entries, an empty banner and a
  // new sentinel (out of band, looked up from the link). A poll must not land meanwhile: it
  // would replace the banner, link included, and htmx would find none of those targets.
  var revealing = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.elt && event.detail.elt.id === "feed-reveal") revealing = event.detail.elt;
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.elt === revealing) revealing = null;
  });
  function revealInFlight() {
    return Boolean(revealing && revealing.isConnected);
  }

  function tick() {
    if (document.visibilityState !== "visible" || !window.htmx || revealInFlight()) return;
    var now = Date.now();
    dueSentinels(now).forEach(function (elt) {
      if (elt.classList.contains("htmx-request")) return; // one poll at a time
      lastPoll.set(elt, now);
      window.htmx.trigger(elt, "aui:poll");
    });
  }

  setInterval(tick, 500);
  document.addEventListener("visibilitychange", tick);

  function isSentinel(elt) {
    return elt && elt.hasAttribute && elt.hasAttribute("data-aui-poll");
  }

  // --- aborted requests are not errors ------------------------------------------------------
  // A request is aborted when the page moves on (a link followed while a poll is in flight)
  // or when a newer one replaces it (hx-sync="this:replace" on the filters). htmx reports
  // both as errors on the console (htmx:sendAbort, htmx:afterRequest): mark such a request
  // aborted and without error just before htmx handles it, so it cleans up quietly and the
  // handlers below neither back off nor say that something failed.
  var leaving = false;
  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function () { leaving = false; });
  document.addEventListener("htmx:beforeSend", function (event) {
    var info = event.detail;
    var xhr = info && info.xhr;
    if (!xhr) return;
    function quietly(handler, always) {
      if (typeof handler !== "function") return handler;
      return function () {
        if (always || leaving) {
          info.error = false; // htmx merges this into the error event: nothing is logged
          info.aborted = true;
        }
        return handler.apply(this, arguments);
      };
    }
    xhr.onabort = quietly(xhr.onabort, true);
    xhr.onerror = quietly(xhr.onerror, false); // a network error counts unless we are leaving
  });

  function aborted(event) {
    return Boolean(event.detail && event.detail.aborted);
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!isSentinel(elt) || aborted(event)) return;
    if (event.detail.successful) {
      backoff.delete(elt);
    } else {
      backoff.set(elt, Math.min((backoff.get(elt) || 1) * 2, MAX_BACKOFF));
    }
  });

  // A poll that returns after its sentinel was replaced (e.g. the filters changed meanwhile)
  // belongs to a list that is gone: drop it. One that returns while the new entries are on
  // their way is dropped too: their answer brings a new sentinel, which polls from there.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (isSentinel(elt) && (!elt.isConnected || revealInFlight())) event.detail.shouldSwap = false;
  });

  // --- feed: loading state ------------------------------------------------------------
  // aria-busy on the list ([data-aui-busy]) while htmx fetches something that lands in it.
  function busyContainer(event) {
    var target = event.detail.target || event.detail.elt;
    if (!target || !target.closest) return null;
    return target.closest("[data-aui-busy]");
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    // background polls, the read marker and follow buttons do not reload the list
    var elt = event.detail.elt;
    if (isSentinel(elt) || (elt.closest && elt.closest(".aui-markread, .aui-follow"))) return;
    var list = busyContainer(event);
    if (list) list.setAttribute("aria-busy", "true");
  });
  function notBusy() {
    document.querySelectorAll("[data-aui-busy][aria-busy]").forEach(function (list) {
      list.removeAttribute("aria-busy");
    });
  }
  document.addEventListener("htmx:afterSettle", notBusy);
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!event.detail.successful && !aborted(event)) notBusy();
  });

  // --- feed: a failed request says so next to what was clicked (polls stay quiet) ---------
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (!elt || !elt.closest || isSentinel(elt) || aborted(event)) return;
    var box = elt.closest("[data-aui-error-message]");
    if (!box) return;
    var note = box.querySelector(":scope > .aui-request-error");
    if (event.detail.successful) {
      if (note) note.remove();
      return;
    }
    if (!note) {
      note = document.createElement("p");
      note.className = "aui-request-error";
      note.setAttribute("role", "alert");
      box.append(note);
    }
    note.textContent = box.getAttribute("data-aui-error-message");
  });

  // --- feed: revealed entries get the focus (the banner that had it is gone) ---------------
  // afterSwap, not afterSettle: the focus moves in the same turn of the event loop as the entries appear
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail.target;
    if (!target || target.id !== "feed-stream") return;
    var first = target.querySelector(".aui-entry");
    if (first && (document.activeElement === document.body || !document.activeElement)) {
      first.focus({ preventScroll: true });
    }
  });

  // --- history: "Back to the history" gives the focus back to the link it was left by -------
  // The back link names the entry (data-aui-return) and which of its links (as of, compare);
  // the timeline that replaces the panel holds that entry when it is on its first page, else
  // the focus goes to the timeline's heading.
  var returning = null; // the back link whose request is on its way
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-aui-return")) returning = elt;
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    var config = event.detail.requestConfig;
    if (!returning || !config || config.elt !== returning) return;
    var wanted = {
      entry: returning.getAttribute("data-aui-return"),
      link: returning.getAttribute("data-aui-return-link"),
    };
    returning = null;
    var entry = document.getElementById(wanted.entry);
    var link = entry && entry.querySelector('[data-aui-link="' + wanted.link + '"]');
    if (!link) {
      var panel = document.getElementById(wanted.entry.replace(/-action-\d+$/, ""));
      link = panel && panel.querySelector(".aui-timeline__title");
      if (link) link.setAttribute("tabindex", "-1");
    }
    if (link) link.focus();
  });

  // --- feed: unread badge ------------------------------------------------------------
  // The read-marker POST answers with HX-Trigger {"aui:unread": {"feed", "count"}}; the
  // badge ({% aui_unread_badge %}) carries the word for "new" in the page's language.
  document.addEventListener("aui:unread", function (event) {
    var detail = event.detail || {};
    var badge = document.getElementById("aui-unread-" + detail.feed);
    if (!badge) return;
    badge.textContent = "";
    if (detail.count) {
      badge.append(String(detail.count));
      var hidden = document.createElement("span");
      hidden.className = "aui-visually-hidden";
      hidden.textContent = " " + badge.getAttribute("data-aui-new-label");
      badge.append(hidden);
    }
  });

  // --- feed: sticky day headings sit below the sticky filter bar --------------------------
  function watchFilters() {
    var form = document.querySelector(".aui-feed .aui-filters");
    if (!form || !window.ResizeObserver) return;
    var feed = form.closest(".aui-feed");
    new ResizeObserver(function () {
      var sticky = getComputedStyle(form).position === "sticky";
      feed.style.setProperty("--aui-sticky-top", sticky ? form.offsetHeight + "px" : "0px");
    }).observe(form);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", watchFilters);
  } else {
    watchFilters();
  }
  document.addEventListener("htmx:historyRestore", watchFilters); // the back button re-renders
})();

// --- relative times: <time class="aui-time" datetime> kept right while the page stays open -----
// The server writes "5 minutes ago" when it renders (rows come from a cache, the text does not);
// a page left open for an hour would still say so. Rewrite it with Intl.RelativeTimeFormat in
// the page's language, in the units the server uses (the largest whole unit); under a minute the
// server's own words stay. Without Intl (or JavaScript) the server's text is shown.
(function () {
  "use strict";
  if (!window.Intl || !Intl.RelativeTimeFormat) return;
  var UNITS = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  var format = null;

  function formatter() {
    if (format) return format;
    var lang = document.documentElement.lang || undefined;
    try {
      format = new Intl.RelativeTimeFormat(lang, { numeric: "always" });
    } catch (error) {
      format = new Intl.RelativeTimeFormat(undefined, { numeric: "always" });
    }
    return format;
  }

  function refresh(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time.aui-time[datetime]").forEach(function (elt) {
      var when = Date.parse(elt.getAttribute("datetime"));
      if (isNaN(when)) return;
      var seconds = Math.floor((now - when) / 1000);
      if (seconds < 60) return; // "seconds ago": the server's words
      for (var i = 0; i < UNITS.length; i++) {
        if (seconds >= UNITS[i][1]) {
          var text = formatter().format(-Math.floor(seconds / UNITS[i][1]), UNITS[i][0]);
          if (elt.textContent !== text) elt.textContent = text;
          return;
        }
      }
    });
  }

  function start() {
    refresh();
    setInterval(refresh, 30000);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
  document.addEventListener("htmx:afterSettle", function (event) {
    refresh(event.target);
  });
})();
