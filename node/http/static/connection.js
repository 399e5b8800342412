// The board's live feed: WebSocket first, HTTP long-poll when WebSocket is missing or keeps
// failing, exponential backoff between attempts. Every event carries a cursor, and every
// reconnect resumes from the last one, so nothing is missed or shown twice.
const BACKOFF_START_MS = 1000;
const BACKOFF_MAX_MS = 30000;
const WS_FAILURES_BEFORE_POLLING = 2;
const WS_RETRY_WHILE_POLLING_MS = 120000;
const POLL_WAIT_SECONDS = 25;

export class LiveConnection extends EventTarget {
  constructor(board) {
    super();
    this.board = board;
    this.cursor = null;
    this.mode = "connecting";
    this.detail = "";
    this.retryAt = null;
    this.attempt = 0;
    this.wsFailures = 0;
    this.generation = 0;
    this.socket = null;
    this.timer = null;
    this.watchdog = null;
    this.pollAbort = null;
    this.heartbeatMs = 15000;
  }

  // (Re)start from scratch: a new board forgets the cursor; a manual reconnect retries WebSocket.
  start({ board = this.board, preferWebSocket = false } = {}) {
    if (board !== this.board) {
      this.board = board;
      this.cursor = null;
    }
    if (preferWebSocket) this.wsFailures = 0;
    this.attempt = 0;
    this.generation += 1;
    this._stopCurrent();
    this._connect(this.generation);
  }

  _stopCurrent() {
    clearTimeout(this.timer);
    clearTimeout(this.watchdog);
    this.pollAbort?.abort();
    this.pollAbort = null;
    if (this.socket) {
      this.socket.onclose = null;
      this.socket.onmessage = null;
      this.socket.close();
      this.socket = null;
    }
  }

  _connect(generation) {
    if ("WebSocket" in window && this.wsFailures < WS_FAILURES_BEFORE_POLLING) {
      this._openSocket(generation);
    } else {
      this._poll(generation);
    }
  }

  _setState(mode, detail = "") {
    this.mode = mode;
    this.detail = detail;
    if (mode !== "offline") this.retryAt = null;
    this.dispatchEvent(new CustomEvent("state", { detail: this }));
  }

  _query() {
    const params = new URLSearchParams({ board: this.board });
    if (this.cursor) params.set("since", this.cursor);
    return params;
  }

  _openSocket(generation) {
    this._setState("connecting", "WebSocket");
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/ws?${this._query()}`);
    this.socket = socket;
    let greeted = false;
    socket.onmessage = (message) => {
      const event = JSON.parse(message.data);
      if (event.type === "hello") {
        greeted = true;
        this.attempt = 0;
        this.wsFailures = 0;
        this.heartbeatMs = event.heartbeat * 1000;
        this._setState("websocket");
      }
      this._armWatchdog(socket);
      this._handle(event);
    };
    socket.onclose = async (close) => {
      if (generation !== this.generation) return;
      this.socket = null;
      clearTimeout(this.watchdog);
      const why = `WebSocket closed (${close.code}${close.reason ? `: ${close.reason}` : ""})`;
      // Closed before the node's hello (refused, or opened and dropped by a proxy) while the
      // node answers HTTP: WebSocket is what fails, so after a second time use polling.
      if (!greeted && (await this._nodeAnswers()) && generation === this.generation) {
        this.wsFailures += 1;
        if (this.wsFailures >= WS_FAILURES_BEFORE_POLLING) {
          this.pollingSince = Date.now();
          this._poll(generation);
          return;
        }
      }
      if (generation === this.generation) this._retry(generation, why);
    };
  }

  async _nodeAnswers() {
    try {
      return (await fetch("/health", { cache: "no-store" })).ok;
    } catch {
      return false;
    }
  }

  // No frame for two heartbeats means a dead connection that TCP has not noticed yet.
  _armWatchdog(socket) {
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(() => socket.close(4000, "no heartbeat"), 2 * this.heartbeatMs + 5000);
  }

  async _poll(generation) {
    this._setState("polling", "HTTP long-poll");
    while (generation === this.generation) {
      const controller = new AbortController();
      this.pollAbort = controller;
      let body;
      try {
        const response = await fetch(`/api/poll?${this._query()}&wait=${POLL_WAIT_SECONDS}`, {
          signal: controller.signal,
          cache: "no-store",
        });
        if (!response.ok) throw new Error(`poll answered HTTP ${response.status}`);
        body = await response.json();
      } catch (error) {
        if (generation === this.generation) this._retry(generation, String(error.message ?? error));
        return;
      }
      if (generation !== this.generation) return;
      if (this.mode !== "polling") this._setState("polling", "HTTP long-poll");
      this.attempt = 0;
      this._handle({ type: "messages", messages: body.messages, cursor: body.cursor });
      if ("WebSocket" in window && Date.now() - (this.pollingSince ?? 0) > WS_RETRY_WHILE_POLLING_MS) {
        this.pollingSince = Date.now();
        this.wsFailures = WS_FAILURES_BEFORE_POLLING - 1;
        this._openSocket(generation);
        return;
      }
    }
  }

  _retry(generation, why) {
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_START_MS * 2 ** this.attempt);
    const delay = Math.round(base * (0.8 + Math.random() * 0.4));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this._setState("offline", why);
    this.timer = setTimeout(() => {
      if (generation === this.generation) this._connect(generation);
    }, delay);
  }

  _handle(event) {
    if (event.cursor) this.cursor = event.cursor;
    if (event.type === "messages" && event.messages.length) {
      this.dispatchEvent(new CustomEvent("messages", { detail: event.messages }));
    } else if ((event.type === "status" || event.type === "hello") && event.status) {
      this.dispatchEvent(new CustomEvent("status", { detail: event.status }));
    }
  }
}
