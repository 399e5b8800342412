// OnusOneClient: one board on one node. Requests (status, peers, messages, broadcast) and the
// live feed: WebSocket first, HTTP long-poll when WebSocket is missing or refused, exponential
// backoff with jitter between attempts. Every live event carries a cursor and every reconnect
// resumes from the last one, so nothing is missed and nothing arrives twice.
import { CLOSE_STATUS, NetworkError, NodeUnavailableError, OnusOneError, errorFromClose, errorFromResponse } from "./errors.js";
import { signEnvelope } from "./signers.js";

const DEFAULTS = {
  backoff: { initial: 1000, max: 30000, factor: 2, jitter: 0.2 },
  pollWait: 25,
  wsFailuresBeforePolling: 2,
  wsRetryWhilePolling: 120000,
};

function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null) search.set(key, String(value));
  }
  return search.toString();
}

export class OnusOneClient extends EventTarget {
  #fetch;
  #WebSocket;
  #backoff;
  #generation = 0;
  #socket = null;
  #timer = null;
  #watchdog = null;
  #pollAbort = null;
  #wsFailures = 0;
  #pollingSince = 0;
  #heartbeatMs = 15000;
  #pending = null;

  /**
   * @param nodeUrl the node's base URL (relative URLs resolve against the page)
   * @param options board, fetch, WebSocket (null forces polling), signer, token, backoff, pollWait
   */
  constructor(nodeUrl, options = {}) {
    super();
    const base = new URL(nodeUrl ?? "/", globalThis.location?.href);
    this.nodeUrl = base.href.replace(/\/+$/, "");
    this.board = options.board ?? "general";
    this.signer = options.signer ?? null;
    this.token = options.token ?? null;
    this.cursor = options.cursor ?? null;
    this.lastStatus = null;
    this.connection = { state: "disconnected", transport: null, attempt: 0, retryAt: null, error: null };
    this.#fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.#WebSocket = "WebSocket" in options ? options.WebSocket : globalThis.WebSocket ?? null;
    this.#backoff = { ...DEFAULTS.backoff, ...options.backoff };
    this.pollWait = options.pollWait ?? DEFAULTS.pollWait;
    this.wsFailuresBeforePolling = options.wsFailuresBeforePolling ?? DEFAULTS.wsFailuresBeforePolling;
    this.wsRetryWhilePolling = options.wsRetryWhilePolling ?? DEFAULTS.wsRetryWhilePolling;
  }

  // ---- requests ---------------------------------------------------------------------------

  async #request(path, init = {}) {
    let response;
    try {
      response = await this.#fetch(`${this.nodeUrl}${path}`, { cache: "no-store", ...init });
    } catch (cause) {
      if (cause?.name === "AbortError") throw cause;
      throw new NetworkError(`${this.nodeUrl} is unreachable: ${cause?.message ?? cause}`, { cause });
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response.json();
  }

  /** `GET /api/status`; also emitted as a `status` event. */
  async status() {
    const status = await this.#request("/api/status");
    this.#status(status);
    return status;
  }

  /** `GET /api/peers`: the node's peers with reputation. */
  async peers() {
    return (await this.#request("/api/peers")).peers;
  }

  /** `GET /api/messages`: a page of the board, newest first; pass `nextCursor` as `before`. */
  async messages({ before, limit, board = this.board } = {}) {
    return this.#request(`/api/messages?${query({ board, before, limit })}`);
  }

  /** `GET /api/messages/{cid}`: one stored message. */
  async message(cid) {
    return this.#request(`/api/messages/${encodeURIComponent(cid)}`);
  }

  /**
   * Post `content` to the board. With a signer the envelope is signed here and accepted from
   * anyone; without one, the node signs it for a caller holding an API token (`token`).
   * Resolves to the node's answer `{success, cid, broadcastTo, pinned, announced, queued?}`.
   */
  async broadcast(content, { author = "anonymous", parent, id, board = this.board, ts = Date.now() } = {}) {
    const messageId = id === undefined ? globalThis.crypto?.randomUUID?.() : id;
    const headers = { "Content-Type": "application/json" };
    let body;
    if (this.signer) {
      const unsigned = { v: 1, type: "message", board, content, author, ts };
      if (messageId !== undefined && messageId !== null) unsigned.id = messageId;
      if (parent !== undefined && parent !== null) unsigned.parent = parent;
      body = await signEnvelope(unsigned, this.signer);
    } else {
      body = { id: messageId, type: "message", content, author, board };
      if (this.token) headers.Authorization = `Bearer ${this.token}`;
    }
    return this.#request("/api/broadcast", { method: "POST", headers, body: JSON.stringify(body) });
  }

  // ---- live feed --------------------------------------------------------------------------

  /**
   * Start the live feed. Resolves once live (WebSocket or polling); until then failed attempts
   * are retried with backoff, except those that cannot succeed (a 4xx such as an unknown
   * board), which reject. Once live, drops are reconnected until `disconnect()`.
   */
  connect() {
    if (this.connection.state === "connected") return Promise.resolve(this);
    if (this.#pending) return this.#pending.promise;
    let settle;
    const promise = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    promise.catch(() => {});
    this.#pending = { promise, ...settle };
    this.#restart();
    return promise;
  }

  /** Stop the live feed (the cursor is kept: a later `connect()` resumes from it). */
  disconnect() {
    this.#generation += 1;
    this.#stopCurrent();
    this.#settle(new OnusOneError("disconnected before the feed was live", { error: "disconnected" }));
    this.#setConnection({ state: "disconnected", transport: null, attempt: 0, retryAt: null, error: null });
  }

  /** Switch boards: forget the cursor and, if live, reconnect to the new board. */
  setBoard(board) {
    if (board === this.board) return;
    this.board = board;
    this.cursor = null;
    if (this.connection.state !== "disconnected") this.#restart();
  }

  /** Try now instead of waiting out the backoff (and give WebSocket another chance). */
  reconnect() {
    this.#wsFailures = 0;
    if (!this.#pending && this.connection.state !== "connected") return this.connect();
    this.#restart();
    return this.#pending?.promise ?? Promise.resolve(this);
  }

  #restart() {
    this.#generation += 1;
    this.#stopCurrent();
    this.connection.attempt = 0;
    this.#attempt(this.#generation);
  }

  #settle(error) {
    const pending = this.#pending;
    this.#pending = null;
    if (!pending) return;
    if (error) pending.reject(error);
    else pending.resolve(this);
  }

  #setConnection(changes) {
    this.connection = { ...this.connection, ...changes };
    this.dispatchEvent(new CustomEvent("connection", { detail: { ...this.connection } }));
  }

  #live(transport) {
    this.#setConnection({ state: "connected", transport, attempt: 0, retryAt: null, error: null });
    this.#settle(null);
  }

  #error(error) {
    this.dispatchEvent(new CustomEvent("error", { detail: error }));
  }

  #status(status) {
    this.lastStatus = status;
    this.dispatchEvent(new CustomEvent("status", { detail: status }));
  }

  #stopCurrent() {
    clearTimeout(this.#timer);
    clearTimeout(this.#watchdog);
    this.#pollAbort?.abort();
    this.#pollAbort = null;
    const socket = this.#socket;
    this.#socket = null;
    if (socket) {
      socket.onmessage = null;
      socket.onclose = null;
      socket.onerror = null;
      if (socket.readyState <= 1) socket.close(1000, "client disconnects");
    }
  }

  async #attempt(generation) {
    if (this.connection.state !== "reconnecting") {
      this.#setConnection({ state: "connecting", transport: null, retryAt: null });
    }
    try {
      await this.#request("/health");
    } catch (error) {
      if (generation === this.#generation) this.#failed(generation, error);
      return;
    }
    if (generation !== this.#generation) return;
    if (this.#WebSocket && this.#wsFailures < this.wsFailuresBeforePolling) this.#openSocket(generation);
    else this.#poll(generation);
  }

  /** A failed attempt: retry later when that can help, give up (and reject) when not. */
  #failed(generation, error) {
    this.#error(error);
    if (error instanceof OnusOneError && !error.retryable) {
      this.#generation += 1;
      this.#stopCurrent();
      this.#setConnection({ state: "disconnected", transport: null, retryAt: null, error });
      this.#settle(error);
      return;
    }
    const { initial, max, factor, jitter } = this.#backoff;
    const attempt = this.connection.attempt;
    let delay = Math.min(max, initial * factor ** attempt) * (1 - jitter + Math.random() * 2 * jitter);
    if (error?.retryAfter) delay = Math.max(delay, error.retryAfter * 1000);
    delay = Math.round(delay);
    this.#setConnection({ state: "reconnecting", transport: null, attempt: attempt + 1, retryAt: Date.now() + delay, error });
    this.#timer = setTimeout(() => {
      if (generation === this.#generation) this.#attempt(generation);
    }, delay);
  }

  #socketUrl() {
    const url = new URL(`${this.nodeUrl}/ws`);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.search = query({ board: this.board, since: this.cursor });
    return url.href;
  }

  #openSocket(generation) {
    const socket = new this.#WebSocket(this.#socketUrl());
    this.#socket = socket;
    let greeted = false;
    socket.onmessage = (message) => {
      if (generation !== this.#generation) return;
      const event = JSON.parse(message.data);
      if (event.type === "hello") {
        greeted = true;
        this.#wsFailures = 0;
        this.#heartbeatMs = event.heartbeat * 1000;
        this.#handle(event);
        this.#live("websocket");
      } else {
        this.#handle(event);
      }
      this.#armWatchdog(socket);
    };
    let ended = false;
    const end = (close) => {
      if (ended || generation !== this.#generation) return;
      ended = true;
      this.#socket = null;
      clearTimeout(this.#watchdog);
      this.#socketClosed(generation, greeted, close);
    };
    socket.onclose = end;
    // Some implementations (Node 20's) report a refused handshake with an error and no close.
    socket.onerror = () => queueMicrotask(() => {
      if (socket.readyState === 3 || !greeted) end({ code: 1006, reason: "" });
    });
  }

  async #socketClosed(generation, greeted, close) {
    // The node refuses on purpose with 4400 ("error: detail"), 4429 (rate-limited) or 1013
    // (busy): that is the node answering, not WebSocket failing, so no fallback to polling.
    if (close.code in CLOSE_STATUS) {
      const error = errorFromClose(close.code, close.reason);
      if (error.error === "bad_cursor") this.cursor = null;
      this.#failed(generation, error.error === "bad_cursor" ? new NetworkError(error.message) : error);
      return;
    }
    const why = new NetworkError(`WebSocket closed (${close.code}${close.reason ? `: ${close.reason}` : ""})`);
    // Closed before the node's hello while the node answers HTTP: WebSocket itself is what
    // fails (refused by a proxy, blocked), so after the second time, poll instead.
    if (!greeted) {
      const answers = await this.#request("/health").then(() => true, () => false);
      if (generation !== this.#generation) return;
      if (answers) {
        this.#wsFailures += 1;
        if (this.#wsFailures >= this.wsFailuresBeforePolling) {
          this.#pollingSince = Date.now();
          this.#poll(generation);
          return;
        }
      }
    }
    this.#failed(generation, why);
  }

  // No frame for two heartbeats means a dead connection that TCP has not noticed yet.
  #armWatchdog(socket) {
    clearTimeout(this.#watchdog);
    this.#watchdog = setTimeout(() => socket.close(4000, "no heartbeat"), 2 * this.#heartbeatMs + 5000);
  }

  async #poll(generation) {
    while (generation === this.#generation) {
      const controller = new AbortController();
      this.#pollAbort = controller;
      const wait = this.cursor === null ? 0 : this.pollWait;
      let body;
      try {
        body = await this.#request(`/api/poll?${query({ board: this.board, since: this.cursor, wait })}`, {
          signal: controller.signal,
        });
      } catch (error) {
        if (generation !== this.#generation) return;
        if (error instanceof OnusOneError && error.error === "bad_cursor") this.cursor = null;
        this.#failed(generation, error);
        return;
      }
      if (generation !== this.#generation) return;
      if (!Array.isArray(body?.messages)) {
        this.#failed(generation, new NodeUnavailableError("the poll answer has no messages list"));
        return;
      }
      if (this.connection.state !== "connected" || this.connection.transport !== "polling") this.#live("polling");
      this.#handle({ type: "messages", messages: body.messages, cursor: body.cursor });
      if (this.#WebSocket && Date.now() - this.#pollingSince > this.wsRetryWhilePolling) {
        this.#pollingSince = Date.now();
        this.#wsFailures = this.wsFailuresBeforePolling - 1;
        this.#openSocket(generation);
        return;
      }
    }
  }

  #handle(event) {
    if (event.cursor) this.cursor = event.cursor;
    if (event.type === "messages") {
      for (const message of event.messages) {
        this.dispatchEvent(new CustomEvent("message", { detail: message }));
      }
    } else if ((event.type === "status" || event.type === "hello") && event.status) {
      this.#status(event.status);
    }
  }
}
