/*! anonmsg browser SDK: tracking (Segment spec) + anonymous in-app messages. docs/sdk.md */
// Plain ES2017, no build step, no dependencies. Loaded by the snippet of Settings → In-app,
// which queues calls on window.cioanalytics until this file replaces it and replays them.
(() => {
  "use strict";
  const VERSION = "1.0.0";
  const SRC = /^(.*)\/v1\/analytics-js\/snippet\/([^/?#]+)\/analytics(?:\.min)?\.js/;
  const script =
    document.currentScript || Array.from(document.scripts).find((s) => SRC.test(s.src));
  const globalName =
    (script && script.getAttribute("data-global-customerio-analytics-key")) || "cioanalytics";
  const stub = window[globalName];
  if (stub && stub.initialized) return;
  const match = script ? SRC.exec(script.src) : null;
  const base = match ? match[1] : ""; // the API lives where this script came from
  const writeKey = (stub && stub._writeKey) || (match ? decodeURIComponent(match[2]) : "");
  const options = (stub && stub._loadOptions) || {};
  const plugin = (options.integrations || {})["Customer.io In-App Plugin"] || {};
  const inApp = plugin.anonymousInApp === true;
  const QUEUE = "anonmsg_queue";
  const MAX_QUEUE = 500;
  const PREVIEW = "anonmsg_preview";
  const Z = 2147483000;
  // An e-mail a lead form accepts (the frame's bridge checks the same).
  const LEAD_EMAIL_PATTERN = "^[^\\s@\"<>]+@[^\\s@\"<>.]+(\\.[^\\s@\"<>.]+)+$";
  const LEAD_EMAIL = new RegExp(LEAD_EMAIL_PATTERN);
  // A message frame (srcdoc) inherits the host page's Content-Security-Policy: under a
  // nonce-based script-src, the frame's bridge script runs only with the page's nonce.
  const nonceOf = (s) => s && s.nonce;
  const nonce = String(nonceOf(script) || nonceOf(Array.from(document.scripts).find(nonceOf)) || "");
  let debug = false;
  const log = (...args) => debug && console.log("[anonmsg]", ...args);

  // --- storage: localStorage (JSON, as analytics.js does) + first-party cookies -----------
  const memory = {};
  const store = {
    get(key) {
      let raw;
      try {
        raw = localStorage.getItem(key);
      } catch (e) {
        raw = memory[key];
      }
      if (raw == null) return null;
      try {
        return JSON.parse(raw);
      } catch (e) {
        return raw;
      }
    },
    set(key, value) {
      const raw = value == null ? null : JSON.stringify(value);
      try {
        if (raw == null) localStorage.removeItem(key);
        else localStorage.setItem(key, raw);
      } catch (e) {
        if (raw == null) delete memory[key];
        else memory[key] = raw;
      }
    },
  };
  const cookie = (name, value) => {
    if (value === undefined) {
      const found = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
      if (!found) return null;
      let text = decodeURIComponent(found[1]);
      try {
        if (text[0] === '"') text = JSON.parse(text);
      } catch (e) {}
      return text || null;
    }
    const secure = location.protocol === "https:" ? "; Secure" : "";
    const rest = value == null ? "; max-age=0" : "; max-age=31536000";
    document.cookie = `${name}=${encodeURIComponent(value || "")}${rest}; path=/; SameSite=Lax${secure}`;
  };
  const readId = (key) => {
    const value = store.get(key) || cookie(key);
    return value == null || value === "" ? null : String(value);
  };
  const writeId = (key, value) => {
    store.set(key, value);
    cookie(key, value);
  };

  const uuid = () => {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const h = Array.from(b, (x) => (x + 256).toString(16).slice(1)).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  };

  // A "fresh" id is one this SDK made and has reported nothing for but page views: the
  // delivery API then answers from the page alone, without looking the visitor up
  // (fresh=1, docs/delivery-api.md). Only for FRESH_MS, which the server's record of who
  // wrote state for an id outlives; any other call ends it. Kept with the id, in storage.
  const FRESH = "anonmsg_fresh";
  const FRESH_MS = 30 * 60 * 1000;
  const markFresh = () => store.set(FRESH, { id: anonymousId, until: Date.now() + FRESH_MS });
  const isFresh = () => {
    const fresh = store.get(FRESH);
    return !!fresh && fresh.id === anonymousId && Date.now() < fresh.until;
  };

  let anonymousId = readId("ajs_anonymous_id");
  if (!anonymousId) {
    anonymousId = uuid();
    markFresh();
  }
  writeId("ajs_anonymous_id", anonymousId);
  let userId = readId("ajs_user_id");
  let traits = store.get("ajs_user_traits") || {};

  // --- the visit (docs/sdk.md, The visit): sent with each delivery request -----------------
  // A session ends after 30 minutes without an event (the analytics convention). It keeps
  // its landing page's external referrer and UTM tags; `sessions` counts this browser's.
  const SESSION = "anonmsg_session";
  const SESSION_MS = 30 * 60 * 1000;
  const UTM = ["utm_source", "utm_medium", "utm_campaign"];
  let landing = true; // no page view yet in this document: document.referrer is its own
  const visit = (paged) => {
    const now = Date.now();
    let session = store.get(SESSION);
    if (!session || !(now - session.at < SESSION_MS)) {
      let referrer = landing ? document.referrer : "";
      try {
        if (new URL(referrer).host === location.host) referrer = "";
      } catch (e) {
        referrer = "";
      }
      session = { sessions: ((session && session.sessions) || 0) + 1, pageviews: 0, referrer };
      const query = new URLSearchParams(location.search);
      for (const key of UTM) session[key] = query.get(key) || "";
    }
    session.at = now;
    if (paged) {
      session.pageviews += 1;
      landing = false;
    }
    store.set(SESSION, session);
  };

  // --- events: queued in localStorage, sent to /v1/batch, retried with backoff ------------
  const listeners = {};
  const emit = (name, ...args) =>
    (listeners[name] || []).slice().forEach((fn) => {
      try {
        fn(...args);
      } catch (e) {
        log(e);
      }
    });
  const loadQueue = () => {
    const queue = store.get(QUEUE);
    return Array.isArray(queue) ? queue : [];
  };
  const saveQueue = (queue) => store.set(QUEUE, queue.length ? queue.slice(-MAX_QUEUE) : null);
  const forget = (events) => {
    const ids = new Set(events.map((e) => e.messageId));
    saveQueue(loadQueue().filter((e) => !ids.has(e.messageId)));
  };
  let attempt = 0;
  let timer = null;
  let inflight = null;
  let backoffUntil = 0;
  let single = false;

  const pageProperties = () => ({
    path: location.pathname,
    referrer: document.referrer,
    search: location.search,
    title: document.title,
    url: location.href.split("#")[0],
  });
  const context = () => ({
    page: pageProperties(),
    userAgent: navigator.userAgent,
    locale: navigator.language,
    library: { name: "anonmsg.js", version: VERSION },
  });
  const makeEvent = (type, fields) => {
    const event = Object.assign(
      { type, messageId: `ajs-${uuid()}`, anonymousId, timestamp: new Date().toISOString() },
      fields,
      { context: context(), integrations: {} }
    );
    if (userId && !event.userId) event.userId = userId;
    if ((type !== "page" && type !== "screen") || event.userId) store.set(FRESH, null);
    visit(type === "page");
    return event;
  };

  // How long the server asked us to wait (Retry-After: seconds or an HTTP date), in ms; 0 if
  // it did not say. A 429 (rate limit) or 503 carries it; capped at an hour.
  const retryAfter = (response) => {
    const value = response && response.headers.get("Retry-After");
    if (!value) return 0;
    const ms = /^\d+$/.test(value.trim()) ? Number(value) * 1000 : Date.parse(value) - Date.now();
    return ms > 0 ? Math.min(ms, 3600000) : 0;
  };

  // One POST of some events: {outcome: "ok" | "rejected" (a 4xx that will never succeed) |
  // "retry", wait: the server's Retry-After in ms}.
  const post = async (events, keepalive) => {
    const sentAt = new Date().toISOString();
    const body = JSON.stringify({
      batch: events.map((e) => Object.assign({}, e, { sentAt })),
      writeKey,
      sentAt,
    });
    try {
      const response = await fetch(`${base}/v1/batch`, {
        method: "POST",
        headers: { "Content-Type": "text/plain" },
        body,
        credentials: "omit",
        keepalive: !!keepalive && body.length < 60000,
      });
      if (response.ok) return { outcome: "ok", wait: 0 };
      const status = response.status;
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        log("events rejected", status);
        return { outcome: "rejected", wait: 0 };
      }
      return { outcome: "retry", wait: retryAfter(response) };
    } catch (e) {
      log("send failed", e);
    }
    return { outcome: "retry", wait: 0 };
  };

  const schedule = (delay) => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      flush();
    }, delay);
  };
  const flush = (keepalive) => {
    if (inflight) return inflight;
    const events = loadQueue().slice(0, single ? 1 : 100);
    if (!events.length) return Promise.resolve();
    inflight = post(events, keepalive).then(({ outcome, wait }) => {
      inflight = null;
      if (outcome === "rejected" && events.length > 1) {
        single = true; // one bad event refuses the whole batch: find it, one by one
        schedule(0);
      } else if (outcome !== "retry") {
        attempt = 0;
        backoffUntil = 0;
        forget(events); // sent, or a single event refused for good (dropped)
        if (loadQueue().length) schedule(0);
        else single = false;
      } else {
        attempt += 1;
        // Backoff with jitter, and never sooner than the server asked (a throttled batch was
        // not stored: sending it again early would only be refused again).
        const backoff = Math.min(1000 * 2 ** attempt, 60000) * (0.5 + Math.random() / 2);
        const delay = Math.max(backoff, wait);
        backoffUntil = Date.now() + delay;
        schedule(delay);
      }
    });
    return inflight;
  };
  const enqueue = (event) => {
    const queue = loadQueue();
    queue.push(event);
    saveQueue(queue);
    log(event.type, event.event || event.name || "", event);
    if (Date.now() >= backoffUntil) schedule(0);
    return event;
  };
  const leave = () => loadQueue().length && flush(true);
  addEventListener("pagehide", leave);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "hidden") leave();
    else if (pollDue) ask(lastUrl);
  });

  // --- the public API (analytics.js signatures) --------------------------------------------
  // Leading strings (up to `count`), then properties, options, and an optional callback.
  const split = (args, count) => {
    args = Array.from(args);
    const callback = typeof args[args.length - 1] === "function" ? args.pop() : null;
    const strings = [];
    while (args.length && strings.length < count && (typeof args[0] !== "object" || !args[0])) {
      const value = args.shift();
      strings.push(value == null ? null : String(value));
    }
    return { strings, props: args[0] || {}, opts: args[1] || {}, callback };
  };
  const done = (callback) => callback && setTimeout(callback, 0);

  // `keep`: the message whose lead form identified the visitor stays, showing its thank-you.
  function identifyAs(id, props, keep) {
    if (id && id !== userId) {
      userId = id;
      writeId("ajs_user_id", id);
    }
    traits = Object.assign({}, traits, props);
    store.set("ajs_user_traits", traits);
    enqueue(makeEvent("identify", { userId: userId || undefined, traits }));
    emit("identify", userId, traits);
    if (userId) stopAnonymousMessages(keep);
  }

  const analytics = {
    initialized: true,
    VERSION,
    _writeKey: writeKey,
    page() {
      const { strings, props, callback } = split(arguments, 2);
      const [category, name] = strings.length > 1 ? strings : [null, strings[0]];
      const properties = Object.assign(pageProperties(), props);
      if (name) properties.name = name;
      if (category) properties.category = category;
      const fields = { properties };
      if (name) fields.name = name;
      if (category) fields.category = category;
      enqueue(makeEvent("page", fields));
      pagedHref = location.href;
      emit("page", category, name, properties);
      heldOut.clear(); // a new page view: a held-out message is exposed on it again
      ask(properties.url);
      done(callback);
      return analytics;
    },
    pageview(url) {
      return analytics.page(url ? { url, path: url } : {});
    },
    screen() {
      const { strings, props, callback } = split(arguments, 2);
      const name = strings[strings.length - 1];
      enqueue(makeEvent("screen", { name, properties: props }));
      done(callback);
      return analytics;
    },
    track() {
      const { strings, props, callback } = split(arguments, 1);
      if (!strings[0]) return analytics;
      enqueue(makeEvent("track", { event: strings[0], properties: props }));
      emit("track", strings[0], props);
      done(callback);
      return analytics;
    },
    identify() {
      const { strings, props, callback } = split(arguments, 1);
      identifyAs(strings[0], props);
      done(callback);
      return analytics;
    },
    alias() {
      const { strings, callback } = split(arguments, 2);
      const to = strings[0];
      if (!to) return analytics;
      const previousId = strings[1] || userId || anonymousId;
      enqueue(makeEvent("alias", { userId: to, previousId }));
      done(callback);
      return analytics;
    },
    group() {
      const { strings, props, callback } = split(arguments, 1);
      enqueue(makeEvent("group", { groupId: strings[0], traits: props }));
      done(callback);
      return analytics;
    },
    reset() {
      stopAnonymousMessages();
      userId = null;
      traits = {};
      writeId("ajs_user_id", null);
      store.set("ajs_user_traits", null);
      anonymousId = uuid();
      writeId("ajs_anonymous_id", anonymousId);
      markFresh();
      store.set(SESSION, null);
      return analytics;
    },
    ready(callback) {
      done(callback);
      return analytics;
    },
    setAnonymousId(id) {
      if (id) {
        anonymousId = String(id);
        writeId("ajs_anonymous_id", anonymousId);
      }
      return anonymousId;
    },
    user() {
      return {
        id: () => userId,
        anonymousId: (id) => (id ? analytics.setAnonymousId(id) : anonymousId),
        traits: () => Object.assign({}, traits),
      };
    },
    debug(on) {
      debug = on !== false;
      return analytics;
    },
    on(name, fn) {
      (listeners[name] = listeners[name] || []).push(fn);
      return analytics;
    },
    off(name, fn) {
      listeners[name] = (listeners[name] || []).filter((f) => f !== fn);
      return analytics;
    },
    once(name, fn) {
      const wrapper = (...args) => {
        analytics.off(name, wrapper);
        fn(...args);
      };
      return analytics.on(name, wrapper);
    },
    flush: () => flush(),
    load() {
      return analytics;
    },
  };
  for (const name of ["trackSubmit", "trackClick", "trackLink", "trackForm"]) {
    analytics[name] = () => analytics;
  }
  for (const name of ["addSourceMiddleware", "addIntegrationMiddleware"]) {
    analytics[name] = () => analytics;
  }
  analytics.addDestinationMiddleware = () => analytics;

  // --- single-page apps (trackPages, on by default): a route change is a page view ---------
  // Shortly after it, unless the app called page() for the new address itself by then.
  let pagedHref = location.href;
  const routed = () => setTimeout(() => location.href !== pagedHref && analytics.page(), 100);
  if (options.trackPages !== false && plugin.trackPages !== false) {
    for (const name of ["pushState", "replaceState"]) {
      const original = history[name];
      history[name] = function () {
        const result = original.apply(this, arguments);
        routed();
        return result;
      };
    }
    addEventListener("popstate", routed);
    addEventListener("hashchange", routed);
  }

  // --- anonymous in-app messages ----------------------------------------------------------
  const shown = new Map(); // message id → {message, root, box, frame, slot, type, restore}
  let askSeq = 0;
  let pollTimer = null;
  let pollDue = false;
  let lastUrl = null;
  let previewToken = null;
  try {
    previewToken = new URLSearchParams(location.search).get(PREVIEW);
    if (previewToken) sessionStorage.setItem(PREVIEW, previewToken);
    else previewToken = sessionStorage.getItem(PREVIEW);
  } catch (e) {}

  const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const pendingReports = () => loadQueue().some((e) => e.event === "Report Content Event");

  // Ask the delivery API what to show on this page, after the queued events (a view or a
  // dismissal just made) have reached the server, so its frequency counts are current.
  async function ask(url) {
    if (!inApp || !url || (userId && !previewToken)) return;
    clearTimeout(pollTimer);
    pollDue = false;
    lastUrl = url;
    const seq = ++askSeq;
    for (let i = 0; i < 3 && pendingReports() && Date.now() >= backoffUntil; i++) {
      await Promise.race([flush(), wait(1500)]);
    }
    const query = new URLSearchParams({ writeKey, anonymousId, url });
    const session = store.get(SESSION) || {};
    session.lang = navigator.language;
    for (const key of ["referrer", ...UTM, "lang", "sessions", "pageviews"]) {
      if (session[key]) query.set(key, session[key]);
    }
    if (previewToken) query.set("preview", previewToken);
    if (isFresh()) query.set("fresh", "1");
    let response = null;
    let data = null;
    try {
      response = await fetch(`${base}/api/v1/delivery?${query}`, { credentials: "omit" });
      data = await response.json();
    } catch (e) {
      log("delivery failed", e);
    }
    if (seq !== askSeq || (userId && !previewToken)) return;
    if (!response || !response.ok || !data) {
      if (data && /preview/.test(data.error || "")) {
        console.warn("[anonmsg]", data.message);
        previewToken = null;
        try {
          sessionStorage.removeItem(PREVIEW);
        } catch (e) {}
        return ask(url); // the page as a visitor sees it
      }
      // Ask again later after a server or network error, or when the server asks to wait (429
      // with Retry-After); not after a refusal (other 4xx).
      const status = response ? response.status : 0;
      const wait = Math.ceil(retryAfter(response) / 1000);
      const again = status === 429 || !status || status >= 500;
      data = { messages: [], pollInterval: again ? wait || 60 : 0 };
      response = null;
    }
    const messages = data.messages || [];
    if (response) {
      // Another page (an SPA route): pending triggers start again, and a shown message that
      // no longer matches goes, except a modal: the visitor is reading it (docs/sdk.md).
      const ids = new Set(messages.map((m) => m.id));
      const moved = url !== answeredUrl;
      answeredUrl = url;
      for (const id of Array.from(pending.keys())) if (moved || !ids.has(id)) disarm(id);
      for (const entry of Array.from(shown.values())) {
        if (moved && !ids.has(entry.message.id) && entry.type !== "modal") close(entry, false);
      }
      messages.forEach((m) => shown.has(m.id) || pending.has(m.id) || arm(m));
    }
    emit("in-app:delivered", messages);
    const interval =
      Number(response && response.headers.get("X-Poll-Interval")) || Number(data.pollInterval);
    if (interval > 0) {
      pollTimer = setTimeout(() => {
        pollDue = true;
        if (document.visibilityState !== "hidden") ask(lastUrl);
      }, interval * 1000);
    }
  }

  function stopAnonymousMessages(keep) {
    askSeq += 1;
    clearTimeout(pollTimer);
    pollDue = false;
    for (const id of Array.from(pending.keys())) disarm(id);
    for (const entry of Array.from(shown.values())) if (entry !== keep) close(entry, false);
  }

  // --- triggers (docs/sdk.md): a delivered message waits for its moment -----------------------
  // id → {message, offs: undo its listeners and timers, fired}. A fired message stays here
  // while its slot is taken (one modal at a time) and shows when that slot frees up.
  const pending = new Map();
  let answeredUrl = null;
  const disarm = (id) => {
    const waiting = pending.get(id);
    if (waiting) waiting.offs.forEach((off) => off());
    pending.delete(id);
  };
  const release = () => {
    for (const waiting of Array.from(pending.values())) {
      if (waiting.fired && show(waiting.message)) pending.delete(waiting.message.id);
    }
  };
  function arm(message) {
    // A preview shows at once (with a notice of what visitors wait for).
    const trigger = (!message.preview && message.trigger) || {};
    const { seconds, percent, selector } = trigger;
    let timer;
    const waiting = { message, offs: [() => clearTimeout(timer)] };
    pending.set(message.id, waiting);
    const start = Date.now();
    const fire = () => {
      waiting.offs.forEach((off) => off());
      waiting.fired = true;
      release();
    };
    const on = (target, type, fn) => {
      target.addEventListener(type, fn, { capture: true, passive: true });
      waiting.offs.push(() => target.removeEventListener(type, fn, true));
    };
    // (Re)starts the one timer: delay, inactivity, the exit intent's fallback.
    const after = (s) => {
      clearTimeout(timer);
      timer = setTimeout(fire, s * 1000);
    };
    const type = trigger.type;
    if (type === "delay") after(seconds);
    else if (type === "scroll") {
      // The page's own scroll or, in an app shell whose page does not scroll, the container
      // the visitor scrolls; small scrollers (a carousel, a code sample) do not count.
      const page = document.scrollingElement || document.documentElement;
      const big = (el) => el.clientWidth * el.clientHeight * 2 >= innerWidth * innerHeight;
      // Percent scrolled, or null if `el` has nothing to scroll.
      const depth = (el) => {
        const room = el.scrollHeight - el.clientHeight;
        return room > 1 ? ((el.scrollTop + 1) / room) * 100 : null;
      };
      const check = (el) => {
        const d = depth(el);
        if (d === null ? el === page : d >= percent) fire();
      };
      on(window, "scroll", (e) => {
        const el = e.target instanceof Element && e.target !== page ? e.target : page;
        if (el === page || big(el)) check(el);
      });
      // A page too short to scroll counts as read, unless a big container scrolls instead
      // (looked for once, and only then).
      const shell =
        depth(page) === null &&
        Array.from(document.body ? document.body.querySelectorAll("*") : []).find(
          (el) =>
            depth(el) !== null && big(el) && /auto|scroll|overlay/.test(getComputedStyle(el).overflowY)
        );
      check(shell || page);
    } else if (type === "exit_intent") {
      // Touch screens have no pointer to leave with: only the fallback, if the team set one.
      if (!matchMedia("(hover: none)").matches) {
        on(document, "mouseout", (e) => {
          // Out of the window (no element to go to), through the top edge's first pixels.
          if (!e.relatedTarget && e.clientY < 10 && Date.now() - start >= 2000) fire();
        });
      } else if (trigger.fallbackSeconds) after(trigger.fallbackSeconds);
    } else if (type === "inactivity") {
      after(seconds);
      ["pointermove", "pointerdown", "keydown", "scroll", "touchstart"].forEach((name) =>
        on(window, name, () => after(seconds))
      );
    } else if (type === "click") {
      on(document, "click", (e) => {
        // A selector this browser rejects skips this message only.
        try {
          if (e.target.closest && e.target.closest(selector)) fire();
        } catch (x) {
          log("bad selector", selector);
          disarm(message.id);
        }
      });
    } else fire(); // page_load, or a kind this release does not know
  }

  const report = (message, actionType, extra) => {
    const properties = Object.assign(
      { actionType, contentId: message.id, contentType: "in_app_content" },
      message.variant ? { variant: message.variant } : null,
      extra
    );
    emit(`in-app:${actionType}`, message, properties);
    if (message.preview) return null; // previews never count as views or clicks
    return enqueue(makeEvent("track", { event: "Report Content Event", properties }));
  };

  const css = (element, text) => {
    element.style.cssText = text;
    return element;
  };
  const el = (tag, attributes) => {
    const element = document.createElement(tag);
    for (const key in attributes) element.setAttribute(key, attributes[key]);
    return element;
  };
  const BOX = "background:#fff;color:#1c1f2b;box-sizing:border-box;overflow:hidden;";
  const SHADOW = "box-shadow:0 12px 40px rgba(15,17,26,.28);border-radius:12px;";

  // An experiment's holdout (docs/sdk.md): nothing is shown where the message would have
  // been; its exposure is reported once per page view (the server counts one per visitor).
  const heldOut = new Set();
  // Whether it is done with: false while its slot is taken (it waits, see release()).
  function show(message) {
    if (shown.has(message.id)) return true;
    if (message.holdout) {
      if (!heldOut.has(message.id)) report(message, "held_out");
      heldOut.add(message.id);
      return true;
    }
    const display = message.display || {};
    const type = display.type || "modal";
    const position = display.position || (type === "overlay" ? "bottom-right" : "top");
    const slot =
      type === "modal" ? "modal" : type === "inline" ? `inline:${display.elementId}` : `${type}:${position}`;
    for (const entry of shown.values()) if (entry.slot === slot) return false;
    let host = document.body;
    if (type === "inline") {
      host = display.elementId && document.getElementById(display.elementId);
      if (!host) return !log("inline element missing", display.elementId);
    }
    // The content's own name (its first heading): the team's internal name is never sent.
    const label = message.label || "Message";
    const frame = el("iframe", {
      sandbox: "allow-scripts allow-popups",
      title: label,
      scrolling: "auto",
    });
    css(frame, "display:block;width:100%;height:0;border:0;margin:0;padding:0;background:transparent;");
    frame.srcdoc = frameDocument(message.html || "");
    const box = el("div", { role: "dialog", "aria-label": label, tabindex: "-1" });
    let root = box;
    const edge = position.split("-");
    if (type === "modal") {
      box.setAttribute("aria-modal", "true");
      const align = position === "top" ? "flex-start" : position === "bottom" ? "flex-end" : "center";
      root = css(
        el("div", {}),
        `position:fixed;inset:0;z-index:${Z};background:rgba(15,17,26,.5);display:flex;justify-content:center;align-items:${align};padding:16px;box-sizing:border-box;`
      );
      css(box, `${BOX}${SHADOW}width:480px;max-width:100%;max-height:100%;overflow:auto;outline:none;`);
      root.appendChild(box);
      if (display.closeOnBackdrop !== false) {
        root.addEventListener("click", (event) => event.target === root && close(entry, true));
      }
    } else if (type === "overlay") {
      css(
        box,
        `${BOX}${SHADOW}position:fixed;z-index:${Z - 1};width:360px;max-width:calc(100vw - 32px);max-height:calc(100vh - 32px);overflow:auto;${edge[0]}:16px;${edge[1] || "right"}:16px;`
      );
    } else if (type === "banner") {
      css(
        box,
        `${BOX}position:fixed;z-index:${Z - 2};left:0;right:0;${position === "bottom" ? "bottom" : "top"}:0;box-shadow:0 2px 16px rgba(15,17,26,.18);`
      );
    } else {
      css(box, "width:100%;");
    }
    root.setAttribute("data-anonmsg-message", String(message.id));
    root.setAttribute("data-anonmsg-display", type);
    if (type !== "inline") root.setAttribute("data-anonmsg-position", position);
    root.className = `anonmsg anonmsg-${type}`;
    if (message.previewNotice) {
      const notice = css(el("p", {}), "margin:0;padding:6px 12px;font:13px/1.4 sans-serif;background:#fff4d6;color:#4a3800;");
      notice.textContent = message.previewNotice;
      box.appendChild(notice);
    }
    box.appendChild(frame);
    const entry = {
      message,
      root,
      box,
      frame,
      slot,
      type,
      restore: type === "modal" ? document.activeElement : null,
    };
    shown.set(message.id, entry);
    host.appendChild(root);
    if (type === "banner") reserve(entry, position === "bottom" ? "paddingBottom" : "paddingTop");
    if (type === "modal") {
      box.focus();
      frame.addEventListener("load", () => {
        if (document.activeElement === box) frame.focus();
      });
    }
    report(message, "viewed_content");
    return true;
  }

  // A banner reserves its height at its edge of the page (padding on <html>), so it pushes the
  // page's content instead of covering it; closing gives the page its own padding back.
  function reserve(entry, side) {
    const style = document.documentElement.style;
    const inline = style[side];
    const base = parseFloat(getComputedStyle(document.documentElement)[side]) || 0;
    entry.fit = () => (style[side] = `${base + entry.box.offsetHeight}px`);
    entry.unfit = () => (style[side] = inline);
    entry.fit();
  }

  function close(entry, dismissed) {
    if (shown.get(entry.message.id) !== entry) return;
    shown.delete(entry.message.id);
    // Focus goes back before the frame goes: a key still held down (the Escape that closed
    // it) then ends on the page, not on a frame that no longer exists.
    if (entry.restore && entry.restore.focus && document.contains(entry.restore)) {
      entry.restore.focus();
    }
    entry.root.remove();
    if (entry.unfit) entry.unfit();
    // After its lead form was sent the message was answered: closing it is not a dismissal.
    if (dismissed && !entry.leadCaptured) report(entry.message, "dismissed_content");
    release();
  }

  function act(entry, name, url, dismiss) {
    const extra = { actionName: name.slice(0, 255) };
    const target = url && urlOf(url, /^https?:$/);
    if (url) extra.actionValue = target ? target.href : url.slice(0, 2000);
    const event = report(entry.message, "clicked_content", extra);
    close(entry, dismiss);
    if (target) {
      // The page is about to go: send the click now, with keepalive, not after a delay.
      if (event) post([event], true).then((sent) => sent.outcome === "ok" && forget([event]));
      location.assign(target.href);
    }
  }

  // The URL, resolved against the page, if its scheme is one of `schemes`; else null.
  function urlOf(url, schemes) {
    try {
      const target = new URL(url, location.href);
      return schemes.test(target.protocol) ? target : null;
    } catch (e) {
      return null;
    }
  }

  // Lead capture (docs/sdk.md): what a frame posts is untrusted (message HTML runs scripts).
  function captureLead(entry, data, origin) {
    const message = entry.message;
    const email = String(data.email || "").trim().toLowerCase();
    const name = String(data.name || "").slice(0, 1000).replace(/\s+/g, " ").trim().slice(0, 100);
    const ok =
      origin === "null" &&
      !entry.leadCaptured &&
      email.length <= 254 &&
      LEAD_EMAIL.test(email) &&
      (message.actions || []).some((a) => a && a.name === data.action) &&
      /\sdata-lead[\s=>]/.test(message.html || "") &&
      !(navigator.userActivation && !navigator.userActivation.isActive) &&
      !(userId && !message.preview);
    entry.frame.contentWindow.postMessage({ anonmsg: ok ? "lead-accepted" : "lead-refused" }, "*");
    if (!ok) return log("lead refused", message.id);
    entry.leadCaptured = true;
    // The click first: the goal converts a visitor identified after clicking.
    report(message, "clicked_content", { actionName: data.action });
    const leadTraits = name ? { email, name } : { email };
    if (!message.preview) identifyAs(email, leadTraits, entry); // a preview never identifies
    emit("in-app:lead", message, leadTraits);
  }

  const modalEntry = () => Array.from(shown.values()).find((e) => e.type === "modal");
  addEventListener("message", (event) => {
    const data = event.data;
    if (!data || typeof data !== "object" || typeof data.anonmsg !== "string") return;
    for (const entry of shown.values()) {
      if (event.source !== entry.frame.contentWindow) continue;
      if (data.anonmsg === "size") {
        const height = Math.max(0, Math.ceil(Number(data.height) || 0));
        const limit = entry.type === "inline" ? height : innerHeight - 32;
        entry.frame.style.height = `${Math.min(height, limit)}px`;
        if (entry.fit) entry.fit();
      } else if (data.anonmsg === "action") {
        act(entry, String(data.name || ""), String(data.url || ""), !!data.dismiss);
      } else if (data.anonmsg === "link") {
        // A plain link (data-link): the visitor goes there; nothing is reported.
        const target = urlOf(String(data.url || ""), /^(https?|mailto|tel):$/);
        if (target) location.assign(target.href);
      } else if (data.anonmsg === "lead") {
        captureLead(entry, data, event.origin);
      } else if (data.anonmsg === "dismiss") {
        close(entry, true);
      } else if (data.anonmsg === "escape" && entry.type === "modal") {
        close(entry, true);
      }
      return;
    }
  });
  // Escape on the page closes a modal on key release, as in its frame: closed on key press, the
  // frame that focus was moving into (its load) could go while the key is down, and Chromium then
  // never completes the key press. Only an Escape pressed while the modal was open counts.
  let escapeFor = null;
  document.addEventListener(
    "keydown",
    (event) => {
      if (event.key === "Escape") escapeFor = modalEntry() || null;
    },
    true
  );
  document.addEventListener(
    "keyup",
    (event) => {
      if (event.key !== "Escape") return;
      const modal = escapeFor;
      escapeFor = null;
      if (modal && modal === modalEntry()) close(modal, true);
    },
    true
  );
  document.addEventListener("focusin", (event) => {
    const modal = modalEntry();
    if (modal && !modal.root.contains(event.target)) modal.frame.focus();
  });

  // Runs inside the sandboxed frame (an opaque origin: no access to this page, its cookies
  // or storage). It reports clicks on tracked actions and close controls, Escape, and the
  // content's height; this page only listens to messages from that frame's window.
  function bridge(leadEmailPattern) {
    var post = function (type, data) {
      var message = { anonmsg: type };
      for (var key in data) message[key] = data[key];
      parent.postMessage(message, "*");
    };
    var urlOf = function (target) {
      return target.getAttribute("data-url") || (target.tagName === "A" && target.getAttribute("href")) || "";
    };
    document.addEventListener(
      "click",
      function (event) {
        var lead = event.target.closest && event.target.closest("[data-lead]");
        if (lead) return leadClick(event, lead);
        var target = event.target.closest && event.target.closest("[data-action],[data-dismiss],[data-link]");
        if (!target) return;
        event.preventDefault();
        if (target.hasAttribute("data-action")) {
          post("action", {
            name: target.getAttribute("data-action"),
            url: urlOf(target),
            dismiss: target.hasAttribute("data-dismiss"),
          });
        } else if (target.hasAttribute("data-link")) post("link", { url: urlOf(target) });
        else post("dismiss", {});
      },
      true
    );
    // A lead form ([data-lead]; no <form>: no allow-forms): its button or Enter sends it.
    var leadEmail = new RegExp(leadEmailPattern);
    var leadClick = function (event, lead) {
      if (!event.target.closest("button,[data-action]")) return; // a click in a field
      event.preventDefault();
      sendLead(lead);
    };
    var sendLead = function (lead) {
      var email = lead.querySelector("input[name=email]");
      var name = lead.querySelector("input[name=name]");
      var error = lead.querySelector("[data-lead-error]");
      var submit = lead.querySelector("[data-action]");
      if (!email || !submit || lead.getAttribute("aria-busy")) return;
      var value = email.value.trim();
      var valid = value.length <= 254 && leadEmail.test(value);
      email.setAttribute("aria-invalid", !valid);
      if (error) error.hidden = valid;
      if (!valid) return email.focus();
      lead.setAttribute("aria-busy", "true");
      post("lead", { email: value, name: name ? name.value : "", action: submit.getAttribute("data-action") });
    };
    document.addEventListener("keydown", function (event) {
      var lead = event.key === "Enter" && event.target.tagName === "INPUT" && event.target.closest("[data-lead]");
      if (lead) {
        event.preventDefault();
        sendLead(lead);
      }
    });
    addEventListener("message", function (event) {
      var kind = event.source === parent && event.data && event.data.anonmsg;
      var accepted = kind === "lead-accepted";
      if (!accepted && kind !== "lead-refused") return;
      document.querySelectorAll("[data-lead],[data-lead-thanks]").forEach(function (element) {
        element.removeAttribute("aria-busy");
        if (accepted) element.hidden = element.hasAttribute("data-lead");
      });
    });
    // On key release: the frame is removed when it closes, and a key released over a frame
    // that no longer exists can be lost (Chromium then never completes the key press).
    document.addEventListener("keyup", function (event) {
      if (event.key === "Escape") post("escape", {});
    });
    var size = function () {
      post("size", { height: document.documentElement.getBoundingClientRect().height });
    };
    // A host CSP without style-src 'unsafe-inline' refuses the message's <style> blocks and
    // style attributes (the frame inherits it); the same CSS through the CSSOM is allowed.
    var restyle = function () {
      var sheets = [];
      document.querySelectorAll("style").forEach(function (element) {
        if (element.sheet || !document.adoptedStyleSheets) return;
        try {
          var sheet = new CSSStyleSheet();
          sheet.replaceSync(element.textContent);
          sheets.push(sheet);
        } catch (e) {}
      });
      if (sheets.length) document.adoptedStyleSheets = document.adoptedStyleSheets.concat(sheets);
      document.querySelectorAll("[style]").forEach(function (element) {
        var declared = element.getAttribute("style");
        if (declared && !element.style.cssText) element.style.cssText = declared;
      });
    };
    document.addEventListener("DOMContentLoaded", function () {
      restyle();
      size();
      if (window.ResizeObserver) new ResizeObserver(size).observe(document.documentElement);
    });
    addEventListener("load", size);
  }

  function frameDocument(html) {
    return (
      '<!doctype html><html><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width,initial-scale=1"><base target="_blank">' +
      "<style>html,body{margin:0;padding:0;background:transparent}</style>" +
      `<script${nonce ? ` nonce="${nonce.replace(/"/g, "")}"` : ""}>(${bridge})(${JSON.stringify(LEAD_EMAIL_PATTERN)})</` +
      `script></head><body>${html}</body></html>`
    );
  }

  // --- take over from the snippet's stub and replay what it queued -------------------------
  const queued = Array.isArray(stub) ? stub.slice() : [];
  window[globalName] = analytics;
  if (stub) stub.push = (call) => analytics[call[0]] && analytics[call[0]](...call.slice(1));
  for (const call of queued) {
    if (Array.isArray(call) && typeof analytics[call[0]] === "function") {
      try {
        analytics[call[0]](...call.slice(1));
      } catch (e) {
        log(e);
      }
    }
  }
  if (loadQueue().length) schedule(0);
})();
