// The live page (GET /live/): the platform's public events as they happen and, once
// the visitor signs in, their own cart, order and payment events.
//
// It talks to the gateway only: the REST API under /api/ and Socket.IO at /socket.io/
// (socket.io-client, websocket transport; the protocol is in the README's "Push to
// clients"). What it does about the connection:
//
// - Reconnecting: socket.io-client reconnects by itself after a network failure or a
//   server restart. On every connect the page subscribes again, sending the last
//   offset it saw of each event name (`since`): the server replays what was missed
//   before it acks. A name the server cannot replay (`recovered: false`: the gap is
//   older than the history it keeps, or that history was lost) makes the page reload
//   that state over REST and say so. A name of which no event was seen yet has no
//   offset to resume from, so its state is reloaded too, quietly.
// - Tokens: the access token lives in memory only. It is refreshed with the refresh
//   token when three quarters of its lifetime have passed, and the fresh one is
//   handed to the open socket (`emit("auth")`), which the server would otherwise close
//   when the old one expires. Should that close happen anyway (`closing` 4401: the
//   computer slept), the page refreshes and connects again; a deactivated user
//   (`closing` 4403) is signed out.
// - State loaded over REST while events keep arriving: events of that state that
//   arrive during the load are applied again on top of the snapshot. Every such event
//   carries absolute values (a price, a stock, a status, a whole cart), so the result
//   is the newest state whichever of the two saw a change first.
(() => {
  "use strict";

  const PUBLIC_EVENTS = words(document.body.dataset.publicEvents);
  const PRIVATE_EVENTS = words(document.body.dataset.privateEvents);
  const IS_PRIVATE = new Set(PRIVATE_EVENTS);
  const FEED_LIMIT = 200;
  const PRODUCTS_SHOWN = 50;
  /** An access token is refreshed once this share of its lifetime has passed. */
  const REFRESH_AFTER = 0.75;
  const ACK_TIMEOUT_MS = 10000;
  /** A subscription's answer comes after the replay of what was missed, which may be long. */
  const SUBSCRIBE_TIMEOUT_MS = 60000;

  // --- small helpers -----------------------------------------------------------------
  function words(text) {
    return (text || "").split(/\s+/).filter(Boolean);
  }

  /** A DOM element: el("td", {className: "number"}, "12.50"). Text is never parsed as HTML. */
  function el(tag, properties = {}, ...children) {
    const node = Object.assign(document.createElement(tag), properties);
    for (const child of children) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  const $ = (selector) => document.querySelector(selector);
  const money = (amount) => (amount === null || amount === undefined ? "" : String(amount));
  const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

  // --- the REST API --------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /** A JSON request to the gateway; errors are the platform's `{"error": {code, message}}`. */
  async function api(path, { method = "GET", body, token } = {}) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = `Bearer ${token}`;
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "network_error", "The gateway could not be reached.");
    }
    const payload = await response.json().catch(() => null);
    if (!response.ok) {
      const error = (payload && payload.error) || {};
      throw new ApiError(response.status, error.code || `http_${response.status}`, error.message || response.statusText);
    }
    return payload;
  }

  /** The items of a list endpoint, paginated or not. */
  const itemsOf = (payload) => (Array.isArray(payload) ? payload : (payload && payload.results) || []);

  // --- notices and the connection's state ----------------------------------------------
  function notify(kind, text) {
    const list = $("#notices");
    const dismiss = el("button", { type: "button", className: "dismiss", title: "Dismiss" }, "×");
    const notice = el("li", { className: `notice ${kind}` }, el("span", {}, text), dismiss);
    dismiss.addEventListener("click", () => notice.remove());
    list.prepend(notice);
    while (list.children.length > 5) list.lastElementChild.remove();
  }

  const CONNECTION_TEXT = {
    connecting: "Connecting…",
    live: "Live",
    reconnecting: "Reconnecting…",
    offline: "Offline",
  };

  function showConnection(state) {
    const status = $("#connection");
    status.dataset.state = state;
    status.textContent = CONNECTION_TEXT[state];
  }

  // --- what the page shows ---------------------------------------------------------------
  const products = new Map(); // id → {id, name, price, stock}
  let cart = { items: [], total: "0.00" };
  const orders = new Map(); // id → {id, status, reason, total, payment}

  const productLabel = (id) => (products.has(id) ? `“${products.get(id).name}”` : `product #${id}`);

  /** How each event changes the state shown, and which state it belongs to. */
  const STATE_OF = {
    "catalog.product.created": "products",
    "catalog.product.price_changed": "products",
    "catalog.product.stock_changed": "products",
    "catalog.product.deleted": "products",
    "cart.updated": "cart",
    "order.status_changed": "orders",
    "payment.succeeded": "orders",
    "payment.failed": "orders",
  };

  const APPLY = {
    "catalog.product.created": (d) => products.set(d.product_id, { id: d.product_id, name: d.name, price: d.price, stock: d.stock }),
    "catalog.product.price_changed": (d) => updateProduct(d.product_id, { price: d.price }),
    "catalog.product.stock_changed": (d) => updateProduct(d.product_id, { stock: d.stock }),
    "catalog.product.deleted": (d) => products.delete(d.product_id),
    "cart.updated": (d) => {
      cart = { items: d.items, total: d.total };
    },
    "order.status_changed": (d) => updateOrder(d.order_id, { status: d.status, reason: d.reason || "" }),
    "payment.succeeded": (d) => updateOrder(d.order_id, { payment: "succeeded", total: d.amount }),
    "payment.failed": (d) => updateOrder(d.order_id, { payment: `failed: ${d.reason}`, total: d.amount }),
  };

  const DESCRIBE = {
    "catalog.product.created": (d) => `New product ${productLabel(d.product_id)} at ${money(d.price)}, ${d.stock} in stock`,
    "catalog.product.price_changed": (d) => `Price of ${productLabel(d.product_id)}: ${money(d.old_price)} → ${money(d.price)}`,
    "catalog.product.stock_changed": (d) => `Stock of ${productLabel(d.product_id)}: ${d.stock}`,
    "catalog.product.deleted": (d) => `Product #${d.product_id} was removed`,
    "review.created": (d) =>
      `Review of ${productLabel(d.product_id)}: ${"★".repeat(d.rating)}${"☆".repeat(Math.max(0, 5 - d.rating))}` +
      (d.verified_purchase ? " (verified purchase)" : ""),
    "cart.updated": (d) => `Your cart: ${plural(d.items.reduce((n, item) => n + item.quantity, 0), "item", "items")}, total ${money(d.total)}`,
    "order.status_changed": (d) => `Your order #${d.order_id} is ${d.status}${d.reason ? ` (${d.reason})` : ""}`,
    "payment.succeeded": (d) => `Payment of ${money(d.amount)} for order #${d.order_id} succeeded`,
    "payment.failed": (d) => `Payment of ${money(d.amount)} for order #${d.order_id} failed: ${d.reason}`,
  };

  function updateProduct(id, fields) {
    if (products.has(id)) Object.assign(products.get(id), fields);
  }

  function updateOrder(id, fields) {
    const order = orders.get(id) || { id, status: "pending", reason: "", total: null, payment: "" };
    orders.set(id, Object.assign(order, fields));
  }

  // --- rendering -------------------------------------------------------------------------
  const RENDER = { products: renderProducts, cart: renderCart, orders: renderOrders };

  function renderProducts() {
    const newest = [...products.values()].sort((a, b) => b.id - a.id).slice(0, PRODUCTS_SHOWN);
    const rows = newest.map((p) => {
      const row = el(
        "tr",
        {},
        el("td", { className: "number" }, p.id),
        el("td", { className: "name", title: p.name }, p.name),
        el("td", { className: "number price" }, money(p.price)),
        el("td", { className: "number stock" }, p.stock),
      );
      row.dataset.productId = p.id;
      return row;
    });
    $("#products tbody").replaceChildren(...rows);
  }

  function renderCart() {
    const rows = cart.items.map((item) =>
      el(
        "tr",
        {},
        el("td", {}, products.has(item.product_id) ? products.get(item.product_id).name : `#${item.product_id}`),
        el("td", { className: "number" }, item.quantity),
        el("td", { className: "number" }, money(item.unit_price)),
      ),
    );
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 3, className: "empty" }, "Empty")));
    $("#cart tbody").replaceChildren(...rows);
    $("#cart-total").textContent = money(cart.total);
  }

  function renderOrders() {
    const rows = [...orders.values()]
      .sort((a, b) => b.id - a.id)
      .map((order) => {
        const row = el(
          "tr",
          {},
          el("td", {}, `#${order.id}`),
          el("td", { className: `status ${order.status}`, title: order.reason }, order.status),
          el("td", { className: "number" }, money(order.total)),
          el("td", { className: "payment" }, order.payment),
        );
        row.dataset.orderId = order.id;
        return row;
      });
    if (rows.length === 0) rows.push(el("tr", {}, el("td", { colSpan: 4, className: "empty" }, "No orders yet")));
    $("#orders tbody").replaceChildren(...rows);
  }

  function addToFeed(name, data) {
    const describe = DESCRIBE[name] || (() => JSON.stringify(data));
    const item = el(
      "li",
      { className: IS_PRIVATE.has(name) ? "event mine" : "event" },
      el("time", { dateTime: new Date().toISOString() }, new Date().toLocaleTimeString()),
      el("code", { className: "name" }, name),
      el("span", { className: "text" }, describe(data)),
    );
    item.dataset.event = name;
    const feed = $("#events");
    feed.prepend(item);
    while (feed.children.length > FEED_LIMIT) feed.lastElementChild.remove();
  }

  // --- state loaded over REST ------------------------------------------------------------
  const LOADERS = {
    products: async () => {
      const page = await api(`/api/catalog/products/?ordering=-id&page_size=${PRODUCTS_SHOWN}`);
      products.clear();
      for (const p of itemsOf(page)) products.set(p.id, { id: p.id, name: p.name, price: p.price, stock: p.stock });
    },
    cart: async () => {
      const user = session.user;
      const current = await api("/api/cart/", { token: await accessToken() });
      if (session.user !== user) return; // signed out meanwhile: it is no one's cart now
      cart = { items: current.items, total: current.total };
    },
    orders: async () => {
      const user = session.user;
      const token = await accessToken();
      const [orderPage, paymentPage] = await Promise.all([
        api("/api/cart/orders/?page_size=20", { token }),
        api("/api/payments/?ordering=-created_at&page_size=50", { token }),
      ]);
      if (session.user !== user) return;
      const payments = new Map(itemsOf(paymentPage).map((p) => [p.order_id, p]));
      orders.clear();
      for (const o of itemsOf(orderPage)) {
        const payment = payments.get(o.id);
        const paymentText = !payment ? "" : payment.status === "failed" ? `failed: ${payment.failure_reason}` : payment.status;
        orders.set(o.id, { id: o.id, status: o.status, reason: o.reason, total: o.total, payment: paymentText });
      }
    },
  };

  /** Events that arrived while a state was being loaded, per state: applied again after. */
  const arrivedDuringLoad = {};
  const loading = {};

  /** Load a state over REST (one load at a time per state; a request meanwhile makes one more). */
  function reload(state) {
    const previous = loading[state] || Promise.resolve();
    const next = previous.then(async () => {
      arrivedDuringLoad[state] = [];
      try {
        await LOADERS[state]();
        for (const [name, data] of arrivedDuringLoad[state]) APPLY[name](data);
      } finally {
        delete arrivedDuringLoad[state];
      }
      RENDER[state]();
    });
    loading[state] = next.catch(() => {});
    return next;
  }

  function reloadAll(states) {
    return Promise.all(
      [...new Set(states)].map((state) => reload(state).catch((error) => notify("error", `Could not load ${state}: ${error.message}`))),
    );
  }

  // --- events from the socket -----------------------------------------------------------
  const offsets = new Map(); // event name → the last offset seen
  const seenIds = new Set(); // recent event ids: an event is shown once even if sent twice
  let receivedCount = 0;

  function onEvent(name, data, meta) {
    if (IS_PRIVATE.has(name) && !session.user) return; // from before signing out
    if (meta && meta.offset) offsets.set(name, meta.offset);
    if (meta && meta.id) {
      if (seenIds.has(meta.id)) return;
      seenIds.add(meta.id);
      if (seenIds.size > 2000) seenIds.delete(seenIds.values().next().value);
    }
    receivedCount += 1;
    const state = STATE_OF[name];
    if (state) {
      APPLY[name](data);
      if (arrivedDuringLoad[state]) arrivedDuringLoad[state].push([name, data]);
    }
    addToFeed(name, data);
    if (state) RENDER[state]();
  }

  // --- the session: tokens in memory, refreshed before they expire -------------------------
  const session = { user: null, access: null, refresh: null, expiresAt: 0, timer: null, refreshing: null };

  function claimsOf(token) {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  }

  function keepTokens({ access, refresh }) {
    session.access = access;
    if (refresh) session.refresh = refresh; // when the server rotates refresh tokens
    const { exp, iat } = claimsOf(access);
    // The lifetime from the token's own claims, counted on this computer's clock from
    // now: a clock that is off does not make the page refresh too late.
    const lifetime = (iat ? exp - iat : exp - Date.now() / 1000) * 1000;
    session.expiresAt = Date.now() + lifetime;
    scheduleRefresh(Math.max(1000, lifetime * REFRESH_AFTER));
  }

  function scheduleRefresh(delay) {
    clearTimeout(session.timer);
    session.timer = setTimeout(() => refreshTokens().catch(() => {}), delay);
  }

  /** Get a fresh access token and hand it to the socket; one refresh at a time. */
  function refreshTokens() {
    if (!session.refreshing) {
      session.refreshing = doRefresh().finally(() => {
        session.refreshing = null;
      });
    }
    return session.refreshing;
  }

  async function doRefresh() {
    const user = session.user;
    let tokens;
    try {
      tokens = await api("/api/auth/token/refresh/", { method: "POST", body: { refresh: session.refresh } });
    } catch (error) {
      if (session.user !== user) throw error;
      if (error.status >= 400 && error.status < 500) {
        signOut("Your session has ended: sign in again.");
      } else {
        scheduleRefresh(5000); // the gateway cannot be reached for now: try again soon
      }
      throw error;
    }
    if (session.user !== user) throw new Error("Signed out meanwhile.");
    keepTokens(tokens);
    if (socket.connected) {
      const answer = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("auth", { token: tokens.access });
      if (answer && answer.error) throw new Error(answer.error.message);
    }
    return tokens.access;
  }

  /** The access token for a REST call, refreshed first when it is about to expire. */
  async function accessToken() {
    if (!session.access) throw new ApiError(401, "not_signed_in", "Not signed in.");
    return session.expiresAt - Date.now() < 5000 ? refreshTokens() : session.access;
  }

  async function signIn(username, password) {
    const tokens = await api("/api/auth/token/", { method: "POST", body: { username, password } });
    const me = await api("/api/auth/me/", { token: tokens.access });
    session.user = { id: me.id, username: me.username };
    keepTokens(tokens);
    showAccount();
    if (socket.connected) {
      const answer = await socket.timeout(ACK_TIMEOUT_MS).emitWithAck("auth", { token: session.access });
      if (answer && answer.error) throw new Error(answer.error.message);
      await subscribe(PRIVATE_EVENTS, { resuming: false }); // which loads the cart and orders too
    } // else the next connection authenticates, subscribes to them and loads them
  }

  /** Forget the user, their state and their events on this screen; the socket is the caller's business. */
  function endSession(message) {
    clearTimeout(session.timer);
    Object.assign(session, { user: null, access: null, refresh: null, expiresAt: 0, timer: null });
    for (const name of PRIVATE_EVENTS) offsets.delete(name);
    cart = { items: [], total: "0.00" };
    orders.clear();
    for (const item of document.querySelectorAll("#events li.mine")) item.remove();
    showAccount();
    if (message) notify("warning", message);
  }

  /** End the session and go on anonymously: the server keeps a socket's identity, so a new one. */
  function signOut(message) {
    endSession(message);
    socket.disconnect();
    socket.connect();
  }

  function showAccount() {
    const signedIn = session.user !== null;
    $("#sign-in").hidden = signedIn;
    $("#account").hidden = !signedIn;
    $("#mine").hidden = !signedIn;
    $("#account-name").textContent = signedIn ? session.user.username : "";
    renderCart();
    renderOrders();
  }

  // --- the socket -------------------------------------------------------------------------
  /* global io */
  const socket = io({
    transports: ["websocket"],
    // A connection attempt that gets no answer (packets dropped, not refused) is given
    // up after 5 s and tried again, instead of socket.io-client's 20 s: the page
    // says "Live" again within seconds of the network coming back.
    timeout: 5000,
    // Read at every (re)connection: the current token, or none for public events only.
    auth: (send) => send(session.access ? { token: session.access } : {}),
  });

  let connectedBefore = false;
  let closing = null; // the server's `closing` {code, reason}, sent before it disconnects us
  let refusedSinceRefresh = false;

  /** Connect unless connected or connecting already (a second CONNECT would confuse both ends). */
  function connectAgain() {
    if (!socket.active) socket.connect();
  }

  const subscribedNames = () => (session.user ? [...PUBLIC_EVENTS, ...PRIVATE_EVENTS] : PUBLIC_EVENTS);
  const statesOf = (names) => new Set(names.map((name) => STATE_OF[name]).filter(Boolean));

  /** Subscribe, resuming from the last offsets; reload over REST what cannot be replayed. */
  async function subscribe(names, { resuming }) {
    const since = {};
    for (const name of names) if (offsets.has(name)) since[name] = offsets.get(name);
    const before = receivedCount;
    let answer;
    try {
      answer = await socket.timeout(SUBSCRIBE_TIMEOUT_MS).emitWithAck("subscribe", { events: names, since });
    } catch (error) {
      if (!socket.connected) return; // the next connection subscribes again
      // Subscribed or not, what was replayed is unknown: take the current state instead.
      answer = { recovered: Object.fromEntries(names.map((name) => [name, false])) };
    }
    if (answer.error) {
      notify("error", `Could not subscribe: ${answer.error.message}`);
      return;
    }
    const missed = receivedCount - before; // the replayed events arrive before the ack
    const lostNames = names.filter((name) => answer.recovered && answer.recovered[name] === false);
    const lost = statesOf(lostNames);
    // Without an offset there was nothing to resume from (the first subscription, or no
    // event of that name seen yet): the state as it is now is loaded, quietly.
    const unknown = [...statesOf(names.filter((name) => !(name in since)))].filter((state) => !lost.has(state));
    await reloadAll([...lost, ...unknown]);
    if (lostNames.length > 0) {
      notify(
        "warning",
        `Reconnected, but the events missed meanwhile could not be replayed (${lostNames.join(", ")}): ` +
          (lost.size ? `reloaded ${[...lost].join(" and ")} from the server.` : "nothing to reload."),
      );
    } else if (resuming && missed > 0) {
      notify("info", `Reconnected: caught up on ${plural(missed, "missed event", "missed events")}.`);
    }
  }

  socket.on("connect", () => {
    showConnection("live");
    refusedSinceRefresh = false;
    const resuming = connectedBefore;
    connectedBefore = true;
    subscribe(subscribedNames(), { resuming });
  });

  socket.on("closing", (info) => {
    closing = info;
  });

  socket.on("disconnect", (reason) => {
    const info = closing;
    closing = null;
    if (reason === "io client disconnect") {
      showConnection("offline");
      return;
    }
    showConnection("reconnecting");
    if (reason !== "io server disconnect") return; // socket.io-client reconnects by itself
    // The server ended the connection on purpose, and it does not come back by itself.
    if (info && info.code === 4403) {
      endSession("Your account was deactivated: signed out.");
      connectAgain();
    } else if (info && info.code === 4401 && session.user) {
      // The token expired before it was refreshed (the computer slept, say).
      refreshTokens().then(connectAgain, connectAgain);
    } else {
      setTimeout(connectAgain, 1000);
    }
  });

  socket.on("connect_error", (error) => {
    showConnection(connectedBefore ? "reconnecting" : "connecting");
    if (socket.active) return; // a network failure: socket.io-client tries again by itself
    // Refused by the server: a token it does not accept (any more), or it is not ready.
    if (error.message === "unauthorized" && session.user && !refusedSinceRefresh) {
      refusedSinceRefresh = true;
      refreshTokens().then(connectAgain, connectAgain);
      return;
    }
    if (error.message === "unauthorized" && session.user) endSession("The server refused your session: signed out.");
    setTimeout(connectAgain, 2000);
  });

  for (const name of [...PUBLIC_EVENTS, ...PRIVATE_EVENTS]) {
    socket.on(name, (data, meta) => onEvent(name, data, meta));
  }

  // --- the page's controls ------------------------------------------------------------------
  $("#sign-in").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.currentTarget;
    const button = form.querySelector("button");
    const error = $("#sign-in-error");
    error.textContent = "";
    button.disabled = true;
    try {
      await signIn(form.elements.username.value, form.elements.password.value);
      form.reset();
    } catch (failure) {
      if (session.user === null) error.textContent = failure.message;
      else notify("error", failure.message);
    } finally {
      button.disabled = false;
    }
  });

  $("#sign-out").addEventListener("click", () => signOut(null));

  showAccount(); // the products load once the socket's first subscription is answered
})();
