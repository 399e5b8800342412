// The dashboard: connection state, node facts, peers, the board's live messages, a post form.
// Everything peers or users wrote is rendered as text, never as HTML.
import { LiveConnection } from "./connection.js";
import { signEnvelope, userIdentity } from "./identity.js";

const REFRESH_MS = 10000;
const MAX_SHOWN = 200;
const $ = (id) => document.getElementById(id);
const MODE_LABELS = { websocket: "Live (WebSocket)", polling: "Live (HTTP polling)", offline: "Offline", connecting: "Connecting…" };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function short(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : (id ?? "–");
}

function duration(seconds) {
  const s = Math.floor(seconds);
  const parts = [[Math.floor(s / 86400), "d"], [Math.floor(s / 3600) % 24, "h"], [Math.floor(s / 60) % 60, "m"], [s % 60, "s"]];
  return parts.filter(([n], i) => n > 0 || i === 3).slice(0, 2).map(([n, u]) => `${n}${u}`).join(" ");
}

function ago(iso) {
  if (!iso) return "never";
  return `${duration(Math.max(0, (Date.now() - Date.parse(iso)) / 1000))} ago`;
}

const boardFromUrl = () => new URLSearchParams(location.search).get("board") || "general";
let board = boardFromUrl();
const shown = new Map();
const live = new LiveConnection(board);

function renderConnection() {
  const { mode, detail, retryAt, attempt } = live;
  $("connection").dataset.state = mode;
  $("connection-label").textContent = MODE_LABELS[mode];
  let extra = mode === "offline" ? detail : "";
  if (mode === "offline" && retryAt) {
    extra = `${detail} · retry ${attempt} in ${Math.max(0, Math.ceil((retryAt - Date.now()) / 1000))} s`;
  }
  $("connection-detail").textContent = extra;
  $("widget-dot").className = `dot ${mode}`;
  $("widget-state").textContent = MODE_LABELS[mode];
}

function renderStatus(status) {
  $("node-id").textContent = status.nodeId;
  $("node-id").title = status.nodeId;
  $("node-uptime").textContent = duration(status.uptime);
  $("node-storage").textContent = `${status.storageUsed} MB`;
  $("node-messages").textContent = String(status.messagesSynced);
  $("node-health").textContent = status.networkHealth;
  $("node-peers").textContent = String(status.connectedPeers);
  $("node-ipfs").textContent = status.ipfs.reachable ? (status.ipfs.agent ?? `version ${status.ipfs.version}`) : "unreachable";
  $("node-outbox").textContent = `${status.outbox} pending`;
  $("widget-peers").textContent = String(status.connectedPeers);
  $("widget-health").textContent = status.networkHealth;
  $("widget-messages").textContent = String(status.messagesSynced);
}

function renderPeers(peers) {
  const list = $("peers");
  list.replaceChildren();
  if (!peers.length) list.append(el("li", "muted", "No peers yet."));
  for (const peer of peers) {
    const item = el("li");
    item.dataset.peer = peer.id;
    const head = el("div", "mono", short(peer.id));
    head.title = peer.id;
    const bar = el("div", "reputation");
    const fill = el("span");
    fill.style.width = `${peer.reputation}%`;
    bar.append(fill);
    const facts = el("div", "muted small", `reputation ${peer.reputation} · ${peer.connected ? "connected · " : ""}seen ${ago(peer.lastSeen)} · ${peer.messagesRelayed} relayed`);
    item.append(head, bar, facts);
    list.append(item);
  }
}

function addMessages(messages, fresh) {
  const list = $("messages");
  for (const message of messages) {
    const { cid, envelope } = message;
    if (shown.has(cid) || envelope.board !== board) continue;
    const item = el("li", fresh ? "fresh" : "");
    item.dataset.cid = cid;
    item.dataset.ts = String(envelope.ts);
    const meta = el("div", "meta");
    const key = el("span", "mono", short(envelope.pubkey));
    key.title = `signed by ${envelope.pubkey}`;
    meta.append(el("span", "author", envelope.author), el("time", "", new Date(envelope.ts).toLocaleString()), key, el("span", "", message.source === "local" ? "posted here" : "from the network"));
    item.append(meta, el("p", "content", envelope.content));
    const later = [...list.children].find((other) => Number(other.dataset.ts) < envelope.ts);
    list.insertBefore(item, later ?? null);
    shown.set(cid, item);
  }
  while (list.children.length > MAX_SHOWN) {
    shown.delete(list.lastElementChild.dataset.cid);
    list.lastElementChild.remove();
  }
  $("no-messages").hidden = list.children.length > 0;
}

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  if (!response.ok) throw new Error(`${path} answered HTTP ${response.status}`);
  return response.json();
}

async function refresh() {
  const [status, peers] = await Promise.allSettled([getJson("/api/status"), getJson("/api/peers")]);
  if (status.status === "fulfilled") renderStatus(status.value);
  if (peers.status === "fulfilled") renderPeers(peers.value.peers);
}

async function loadHistory() {
  const wanted = board;
  const page = await getJson(`/api/messages?${new URLSearchParams({ board, limit: "50" })}`);
  if (wanted === board) addMessages(page.messages, false);
}

function openBoard(name) {
  board = name;
  shown.clear();
  $("messages").replaceChildren();
  $("board").value = board;
  $("post-board").textContent = board;
  live.start({ board });
  loadHistory().catch(() => {});
}

async function post(event) {
  event.preventDefault();
  const result = $("post-result");
  const button = $("post-button");
  const author = $("author").value.trim();
  const content = $("content").value;
  button.disabled = true;
  result.textContent = "Signing…";
  try {
    localStorage.setItem("onusone.author", author);
    const unsigned = { v: 1, type: "message", board, content, author, ts: Date.now(), id: crypto.randomUUID() };
    const envelope = await signEnvelope(unsigned, await userIdentity());
    const response = await fetch("/api/broadcast", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(envelope),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.detail ?? `HTTP ${response.status}`);
    result.textContent = answer.queued ? `Queued (${short(answer.cid)}): IPFS is unreachable, it goes out when it is back` : `Posted ${short(answer.cid)} to ${answer.broadcastTo} peer(s)`;
    $("content").value = "";
  } catch (error) {
    result.textContent = `Not posted: ${error.message}`;
  } finally {
    button.disabled = false;
  }
}

live.addEventListener("state", renderConnection);
live.addEventListener("status", (event) => renderStatus(event.detail));
live.addEventListener("messages", (event) => addMessages(event.detail, true));
$("reconnect").addEventListener("click", () => live.start({ preferWebSocket: true }));
$("board-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("board").value.trim();
  if (!/^[a-z0-9-]{1,64}$/.test(name)) return;
  history.replaceState(null, "", `?${new URLSearchParams({ board: name })}`);
  openBoard(name);
});
$("post-form").addEventListener("submit", post);
$("author").value = localStorage.getItem("onusone.author") ?? "";
userIdentity().then((key) => {
  $("user-key").textContent = short(key.pubkey);
  $("user-key").title = key.pubkey;
  $("user-key").dataset.pubkey = key.pubkey;
}, (error) => {
  $("user-key").textContent = `unavailable: ${error.message}`;
  $("post-button").disabled = true;
});
openBoard(board);
refresh();
setInterval(refresh, REFRESH_MS);
setInterval(renderConnection, 1000);
