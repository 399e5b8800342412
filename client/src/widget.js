// <onusone-status node="https://node.example" board="general" [compact] [manual]>: connection
// state, health, peers with reputation and message counts, connect/disconnect and a retry
// countdown. Framework-free; styled from outside with CSS custom properties (--onusone-*) and
// parts (::part(container|header|dot|state|button|detail|stats|facts|peers|peer|reputation|catchup)).
// Everything the node or its peers report is rendered as text, never as HTML.
import { OnusOneClient } from "./client.js";

const LABELS = {
  websocket: "Live (WebSocket)",
  polling: "Live (HTTP polling)",
  connecting: "Connecting…",
  offline: "Offline",
  disconnected: "Disconnected",
};

const CSS = `
:host { display: block; font-family: var(--onusone-font, system-ui, sans-serif); color: var(--onusone-fg, #1d2330);
  --_ok: var(--onusone-ok, #12a150); --_warn: var(--onusone-warn, #d08700); --_bad: var(--onusone-bad, #d92d20);
  --_accent: var(--onusone-accent, #3559e0); --_muted: var(--onusone-muted, #667085); --_line: var(--onusone-line, #e3e6eb); }
:host([hidden]) { display: none; }
[part~="container"] { background: var(--onusone-bg, #fff); border: 1px solid var(--_line); border-radius: var(--onusone-radius, 10px); padding: .8rem 1rem; }
[part~="header"] { display: flex; flex-wrap: wrap; align-items: center; gap: .4rem .6rem; }
[part~="dot"] { width: .7rem; height: .7rem; border-radius: 50%; background: var(--_warn); flex: none; }
[data-state="websocket"] [part~="dot"] { background: var(--_ok); }
[data-state="polling"] [part~="dot"] { background: var(--_accent); }
[data-state="offline"] [part~="dot"], [data-state="disconnected"] [part~="dot"] { background: var(--_bad); }
[part~="state"] { font-weight: 600; }
[part~="detail"] { color: var(--_muted); font-size: .85em; margin: .3rem 0 0; overflow-wrap: anywhere; }
[part~="detail"]:empty { display: none; }
[part~="button"] { font: inherit; font-size: .85em; border: 0; border-radius: 6px; padding: .25rem .6rem; background: var(--_accent); color: #fff; cursor: pointer; }
[part~="button"]:focus-visible { outline: 2px solid var(--_accent); outline-offset: 2px; }
.actions { display: flex; gap: .4rem; margin-left: auto; }
dl { display: grid; grid-template-columns: 7rem minmax(0, 1fr); gap: .2rem .8rem; margin: .6rem 0 0; }
dt { color: var(--_muted); } dd { margin: 0; overflow-wrap: anywhere; }
.mono { font-family: ui-monospace, Menlo, monospace; font-size: .85em; }
h3 { font-size: .9em; margin: .8rem 0 .3rem; }
ul { list-style: none; margin: 0; padding: 0; }
[part~="peer"] { padding: .35rem 0; border-top: 1px solid var(--_line); }
[part~="reputation"] { height: .35rem; background: var(--_line); border-radius: 3px; overflow: hidden; margin: .2rem 0; }
[part~="reputation"] > span { display: block; height: 100%; background: var(--_ok); }
.small { color: var(--_muted); font-size: .8em; }
:host([compact]) .full { display: none; }
:host([compact]) [part~="container"] { padding: .4rem .7rem; }
:host([compact]) [part~="stats"] { display: flex; flex-wrap: wrap; gap: .2rem .5rem; margin: .3rem 0 0; font-size: .9em; }
:host([compact]) [part~="stats"] dt::after { content: ":"; }
`;

const TEMPLATE = `
<section part="container" role="region" aria-label="Network status">
  <div part="header">
    <span part="dot" aria-hidden="true"></span>
    <span part="state" data-field="state" role="status" aria-live="polite">Connecting…</span>
    <span class="actions">
      <button part="button retry" type="button" data-action="retry" hidden>Retry now</button>
      <button part="button toggle" type="button" data-action="toggle">Disconnect</button>
    </span>
  </div>
  <p part="detail" data-field="detail"></p>
  <dl part="stats">
    <dt>Peers</dt><dd data-field="peers">–</dd>
    <dt>Health</dt><dd data-field="health">–</dd>
    <dt>Messages</dt><dd data-field="messages">–</dd>
  </dl>
  <div class="full">
    <dl part="facts">
      <dt>Node id</dt><dd class="mono" data-field="nodeId">–</dd>
      <dt>Uptime</dt><dd data-field="uptime">–</dd>
      <dt>Storage used</dt><dd data-field="storage">–</dd>
      <dt>IPFS</dt><dd data-field="ipfs">–</dd>
      <dt>Outbox</dt><dd data-field="outbox">–</dd>
    </dl>
    <div part="catchup" data-field="catchup" hidden><h3>Catch-up</h3><ul></ul></div>
    <h3 id="peers-title">Peers</h3>
    <ul part="peers" data-field="peerList" aria-labelledby="peers-title"></ul>
  </div>
</section>`;

function el(tag, attributes = {}, text) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function short(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : (id ?? "–");
}

export function duration(seconds) {
  const s = Math.floor(seconds);
  const parts = [[Math.floor(s / 86400), "d"], [Math.floor(s / 3600) % 24, "h"], [Math.floor(s / 60) % 60, "m"], [s % 60, "s"]];
  return parts.filter(([n], i) => n > 0 || i === 3).slice(0, 2).map(([n, u]) => `${n}${u}`).join(" ");
}

function ago(iso) {
  return iso ? `${duration(Math.max(0, (Date.now() - Date.parse(iso)) / 1000))} ago` : "never";
}

/** The widget's one-word state: websocket, polling, connecting, offline or disconnected. */
export function stateOf(connection) {
  if (connection.state === "connected") return connection.transport;
  if (connection.state === "reconnecting") return "offline";
  return connection.state;
}

const HTMLElementBase = globalThis.HTMLElement ?? class {};

export class OnusOneStatus extends HTMLElementBase {
  static observedAttributes = ["node", "board"];
  #client = null;
  #owned = false;
  #listeners = null;
  #ticker = null;
  #refresher = null;

  constructor() {
    super();
    const root = this.attachShadow({ mode: "open" });
    if (globalThis.CSSStyleSheet && "adoptedStyleSheets" in root) {
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el("style", {}, CSS));
    }
    const template = document.createElement("template");
    template.innerHTML = TEMPLATE;
    root.append(template.content);
    root.addEventListener("click", (event) => this.#act(event.target.closest("button")?.dataset.action));
  }

  /** The OnusOneClient shown: one the widget made from its attributes, or one given to it. */
  get client() {
    return this.#client;
  }

  set client(client) {
    this.#detach();
    if (this.#owned) this.#client?.disconnect();
    this.#client = client;
    this.#owned = false;
    if (this.isConnected && client) this.#attach();
  }

  connectedCallback() {
    if (!this.#client) this.#makeClient();
    this.#attach();
  }

  disconnectedCallback() {
    this.#detach();
    if (this.#owned) this.#client.disconnect();
  }

  attributeChangedCallback() {
    if (!this.#owned || !this.isConnected) return;
    this.#detach();
    this.#client.disconnect();
    this.#makeClient();
    this.#attach();
  }

  #makeClient() {
    this.#client = new OnusOneClient(this.getAttribute("node") ?? undefined, { board: this.getAttribute("board") ?? "general" });
    this.#owned = true;
  }

  #field(name) {
    return this.shadowRoot.querySelector(`[data-field="${name}"]`);
  }

  #attach() {
    const client = this.#client;
    this.#listeners = new AbortController();
    const signal = this.#listeners.signal;
    client.addEventListener("connection", () => this.#renderConnection(), { signal });
    client.addEventListener("status", (event) => this.#renderStatus(event.detail), { signal });
    this.#ticker = setInterval(() => this.#renderConnection(), 1000);
    this.#refresher = setInterval(() => this.refresh(), Number(this.getAttribute("refresh") ?? 10) * 1000);
    this.#renderConnection();
    if (client.lastStatus) this.#renderStatus(client.lastStatus);
    if (this.#owned && !this.hasAttribute("manual")) client.connect().catch(() => {});
    this.refresh();
  }

  #detach() {
    this.#listeners?.abort();
    this.#listeners = null;
    clearInterval(this.#ticker);
    clearInterval(this.#refresher);
  }

  /** Fetch status and peers now (also done every `refresh` seconds, default 10). */
  async refresh() {
    const client = this.#client;
    if (!client || client.connection.state !== "connected") return;
    const [status, peers] = await Promise.allSettled([client.status(), client.peers()]);
    if (client !== this.#client) return;
    if (status.status === "fulfilled") this.#renderStatus(status.value);
    if (peers.status === "fulfilled") this.#renderPeers(peers.value);
  }

  #act(action) {
    const client = this.#client;
    if (!client || !action) return;
    if (action === "retry") client.reconnect().catch(() => {});
    else if (client.connection.state === "disconnected") client.connect().catch(() => {});
    else client.disconnect();
  }

  #renderConnection() {
    const connection = this.#client.connection;
    const state = stateOf(connection);
    const wasConnected = this.dataset.state === "websocket" || this.dataset.state === "polling";
    this.dataset.state = state;
    this.shadowRoot.querySelector("[part~=container]").dataset.state = state;
    this.#field("state").textContent = LABELS[state];
    let detail = connection.error?.message ?? "";
    if (state === "offline" && connection.retryAt) {
      const seconds = Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000));
      detail = `${detail} · retry ${connection.attempt} in ${seconds} s`;
    }
    if (this.#field("detail").textContent !== detail) this.#field("detail").textContent = detail;
    const toggle = this.shadowRoot.querySelector("[data-action=toggle]");
    toggle.textContent = state === "disconnected" ? "Connect" : "Disconnect";
    this.shadowRoot.querySelector("[data-action=retry]").hidden = state !== "offline";
    if (!wasConnected && (state === "websocket" || state === "polling")) this.refresh();
  }

  #renderStatus(status) {
    const set = (name, text) => (this.#field(name).textContent = text);
    set("peers", String(status.connectedPeers));
    set("health", status.networkHealth);
    // The board this widget's client shows, when the node serves it; else every board's.
    const board = this.#client?.board;
    const onBoard = status.boardMessages?.[board];
    set("messages", onBoard === undefined ? `${status.messagesSynced} (all boards)` : `${onBoard} on ${board}`);
    set("nodeId", status.nodeId);
    this.#field("nodeId").title = status.nodeId;
    set("uptime", duration(status.uptime));
    set("storage", `${status.storageUsed} MB`);
    set("ipfs", status.ipfs?.reachable ? (status.ipfs.agent ?? `version ${status.ipfs.version}`) : "unreachable");
    set("outbox", `${status.outbox ?? 0} pending`);
    this.#renderCatchUp(status.catchUp);
  }

  #renderCatchUp(catchUp) {
    const box = this.#field("catchup");
    box.hidden = !catchUp || Object.keys(catchUp).length === 0;
    const list = box.querySelector("ul");
    list.replaceChildren();
    for (const [board, progress] of Object.entries(catchUp ?? {})) {
      let text = "caught up";
      if (!progress.caughtUp) {
        const pending = [`${progress.pagesPending} page(s)`];
        if (progress.messagesPending !== null && progress.messagesPending !== undefined) pending.push(`${progress.messagesPending} message(s)`);
        text = `catching up: ${pending.join(", ")} pending · ${Math.round(progress.rate ?? 0)} msg/s`;
      }
      list.append(el("li", { "data-board": board }, `${board}: ${text}`));
    }
  }

  #renderPeers(peers) {
    const list = this.#field("peerList");
    list.replaceChildren();
    if (!peers.length) list.append(el("li", { class: "small" }, "No peers yet."));
    for (const peer of peers) {
      const item = el("li", { part: "peer", "data-peer": peer.id });
      item.append(el("div", { class: "mono", title: peer.id }, short(peer.id)));
      const meter = el("div", {
        part: "reputation",
        role: "meter",
        "aria-label": `reputation of ${short(peer.id)}`,
        "aria-valuemin": "0",
        "aria-valuemax": "100",
        "aria-valuenow": String(peer.reputation),
      });
      const fill = el("span");
      fill.style.width = `${peer.reputation}%`;
      meter.append(fill);
      const facts = `reputation ${peer.reputation} · ${peer.connected ? "connected · " : ""}seen ${ago(peer.lastSeen)} · ${peer.messagesPublished ?? peer.messagesRelayed} published by it`;
      item.append(meter, el("div", { class: "small" }, facts));
      list.append(item);
    }
  }
}

if (globalThis.customElements && !customElements.get("onusone-status")) {
  customElements.define("onusone-status", OnusOneStatus);
}
