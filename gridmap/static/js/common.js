/*
 * gridmap — the helpers every page script shares: the page config, text formatting, building
 * elements, debouncing, the JSON API client and, for pages that need an account, the way to
 * the sign-in page.
 *
 * Exposes window.Gridmap. Loaded by base.html before any page script. It holds no user-visible
 * text: a page's strings arrive translated in its config (#gm-page-config, see _page.html).
 */
(function () {
  "use strict";

  /** The JSON document in the script element `id`, or {} when the page has none. */
  function readJSON(id) {
    var node = document.getElementById(id);
    return node ? JSON.parse(node.textContent) : {};
  }

  var config = readJSON("gm-page-config");

  /** Fill {name} placeholders of a translated template; unknown names are left as they are. */
  function fmt(template, values) {
    return String(template).replace(/\{(\w+)\}/g, function (whole, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : whole;
    });
  }

  /** For the few places that must build HTML text (Leaflet's layer control labels). */
  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /** Build an element; children are nodes or strings (always inserted as text, never HTML). */
  function el(tag, className, children) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined || child === "" || child === false) return;
      node.append(child instanceof Node ? child : String(child));
    });
    return node;
  }

  /** `fn` called once calls have paused for `delayMs`, with the last call's arguments. */
  function debounce(fn, delayMs) {
    var timer = null;
    return function () {
      var args = arguments;
      clearTimeout(timer);
      timer = setTimeout(function () { fn.apply(null, args); }, delayMs);
    };
  }

  function isAbort(err) { return Boolean(err && err.name === "AbortError"); }

  /** What to tell people about a failed request: the API's own message, else `networkText`. */
  function reasonOf(err, networkText) { return err && err.status ? err.message : networkText; }

  /** An absolute URL under the page's API base; empty, null and undefined params are left out. */
  function apiUrl(path, params) {
    var url = new URL(config.apiBase + path, window.location.href);
    Object.keys(params || {}).forEach(function (key) {
      var value = params[key];
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    });
    return url;
  }

  /** The page's CSRF token (base.html's meta tag), sent with every request that changes data. */
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // ---------------------------------------------------------------- who is signed in

  var accountRequired = false;

  /** Off to the sign-in page (config.signInUrl), which brings the browser back here after. */
  function toSignIn() {
    var here = window.location.pathname + window.location.search;
    window.location.assign((config.signInUrl || "/login") + "?next=" + encodeURIComponent(here));
  }

  /**
   * For a page that needs an account: the public goes to the sign-in page now (before typing
   * anything), and from then on a 401 from the API (the session ended) does the same.
   * Returns whether someone is signed in (config.me).
   */
  function requireAccount() {
    accountRequired = true;
    if (!config.me) { toSignIn(); return false; }
    return true;
  }

  /**
   * Fetch and parse; resolves {ok, status, body}; rejects only when the network fails. On a page
   * that requires an account a 401 leaves for the sign-in page and never settles, so no error
   * flashes up on the way out.
   */
  function request(path, options, params) {
    var init = Object.assign({ credentials: "same-origin" }, options || {});
    var method = (init.method || "GET").toUpperCase();
    init.headers = Object.assign({ Accept: "application/json" },
      method === "GET" || method === "HEAD" ? {} : { "X-CSRFToken": csrfToken() }, init.headers || {});
    return fetch(apiUrl(path, params), init).then(function (response) {
      if (response.status === 401 && accountRequired) { toSignIn(); return new Promise(function () {}); }
      return response.json().catch(function () { return null; }).then(function (body) {
        return { ok: response.ok, status: response.status, body: body };
      });
    });
  }

  /**
   * A server message in the page's language only. The API writes every message as
   * "中文 (English)": the English is the last balanced parenthesis at the end (it may hold
   * parentheses of its own). A message without one is shown as it is.
   */
  function oneLanguage(message) {
    var text = String(message || "").trim();
    if (text.charAt(text.length - 1) !== ")") return text;
    var depth = 0;
    for (var i = text.length - 1; i >= 0; i -= 1) {
      var ch = text.charAt(i);
      if (ch === ")") depth += 1;
      else if (ch === "(" && --depth === 0) {
        var zh = text.slice(0, i).trim();
        var en = text.slice(i + 1, -1).trim();
        if (!zh || !en) return text;
        return config.lang === "en" ? en.charAt(0).toUpperCase() + en.slice(1) : zh;
      }
    }
    return text;
  }

  /** An Error carrying the API's message (in the page's language), status and error code from
   * a failed `request`. */
  function errorFrom(result) {
    var body = result.body;
    var err = new Error(oneLanguage((body && body.error && body.error.message) || String(result.status)));
    err.status = result.status;
    err.code = body && body.error && body.error.code;
    err.body = body;
    return err;
  }

  /** GET JSON; non-2xx answers throw with the API's own message. */
  function getJSON(path, params, signal) {
    return request(path, { signal: signal }, params).then(function (result) {
      if (result.ok && result.body) return result.body;
      throw errorFrom(result);
    });
  }

  // ---------------------------------------------------------------- the header's inbox count

  var inboxCount = document.getElementById("gm-inbox-count");

  /** Show `count` unread items on the header's inbox link (hidden at zero). */
  function setUnread(count) {
    if (!inboxCount) return;
    var n = Number(count) || 0;
    inboxCount.textContent = n > 99 ? "99+" : String(n);
    inboxCount.hidden = n === 0;
  }

  // base.html names the count's URL on the link, so pages without a page config get it too.
  if (inboxCount) {
    var unreadUrl = document.getElementById("gm-inbox-link").getAttribute("data-unread-url");
    fetch(unreadUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (body) { if (body) setUnread(body.unread); })
      .catch(function () { /* the count is a hint: the page works without it */ });
  }

  // ---------------------------------------------------------------- the header's page links

  // The links scroll sideways when they do not fit (app.css); their end fades out only while
  // there is more to scroll to, so a row that fits shows its last link whole.
  var nav = document.querySelector(".gm-nav");
  if (nav) {
    var fade = function () {
      var more = nav.scrollWidth - nav.clientWidth - nav.scrollLeft > 1;
      nav.classList.toggle("gm-nav-overflows", more);
    };
    fade();
    window.addEventListener("resize", debounce(fade, 100));
    nav.addEventListener("scroll", debounce(fade, 50), { passive: true });
    // A mouse wheel scrolls the row sideways (a mouse has no sideways wheel; keyboard focus
    // and touch already scroll it).
    nav.addEventListener("wheel", function (event) {
      if (nav.scrollWidth <= nav.clientWidth || Math.abs(event.deltaY) <= Math.abs(event.deltaX)) {
        return;
      }
      event.preventDefault();
      nav.scrollLeft += event.deltaY;
    }, { passive: false });
  }

  window.Gridmap = {
    config: config,
    strings: config.strings || {},
    readJSON: readJSON,
    fmt: fmt,
    escapeHtml: escapeHtml,
    el: el,
    debounce: debounce,
    isAbort: isAbort,
    reasonOf: reasonOf,
    apiUrl: apiUrl,
    request: request,
    errorFrom: errorFrom,
    oneLanguage: oneLanguage,
    getJSON: getJSON,
    me: config.me || null,
    requireAccount: requireAccount,
    toSignIn: toSignIn,
    pageUrl: function (path) { return (config.root || "") + path; },
    setUnread: setUnread,
  };
})();
