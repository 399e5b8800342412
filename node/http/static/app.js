// The dashboard, built on the client SDK the node serves under /client/: one OnusOneClient
// shared by the two status widgets (header and sidebar), the board's live messages, and a
// post form signed in this browser. Everything peers or users wrote is rendered as text.
import { OnusOneClient, browserSigner } from "/client/index.js";
import "/client/widget.js";

const MAX_SHOWN = 200;
const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function short(id) {
  return id && id.length > 16 ? `${id.slice(0, 8)}…${id.slice(-6)}` : (id ?? "–");
}

const boardFromUrl = () => new URLSearchParams(location.search).get("board") || "general";
const signer = browserSigner();
const client = new OnusOneClient(location.origin, { board: boardFromUrl(), signer });
const shown = new Map();

function addMessages(messages, fresh) {
  const list = $("messages");
  for (const message of messages) {
    const { cid, envelope } = message;
    if (shown.has(cid) || envelope.board !== client.board) continue;
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

function openBoard(name) {
  client.setBoard(name);
  shown.clear();
  $("messages").replaceChildren();
  $("board").value = name;
  $("post-board").textContent = name;
  client.messages({ limit: 50 }).then((page) => {
    if (page.board === client.board) addMessages(page.messages, false);
  }, () => {});
}

async function post(event) {
  event.preventDefault();
  const result = $("post-result");
  const button = $("post-button");
  const author = $("author").value.trim();
  button.disabled = true;
  result.textContent = "Signing…";
  try {
    localStorage.setItem("onusone.author", author);
    const answer = await client.broadcast($("content").value, { author });
    result.textContent = answer.queued ? `Queued (${short(answer.cid)}): IPFS is unreachable, it goes out when it is back` : `Posted ${short(answer.cid)}: announced to ${answer.broadcastTo} neighbour(s) of this node subscribed to the board; they pass it on to the rest of the network`;
    $("content").value = "";
  } catch (error) {
    result.textContent = `Not posted: ${error.detail ?? error.message}`;
  } finally {
    button.disabled = false;
  }
}

client.addEventListener("message", (event) => addMessages([event.detail], true));
for (const widget of document.querySelectorAll("onusone-status")) widget.client = client;
$("board-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("board").value.trim();
  if (!/^[a-z0-9-]{1,64}$/.test(name)) return;
  history.replaceState(null, "", `?${new URLSearchParams({ board: name })}`);
  openBoard(name);
});
$("post-form").addEventListener("submit", post);
$("author").value = localStorage.getItem("onusone.author") ?? "";
signer.publicKey().then((pubkey) => {
  $("user-key").textContent = short(pubkey);
  $("user-key").title = pubkey;
  $("user-key").dataset.pubkey = pubkey;
}, (error) => {
  $("user-key").textContent = `unavailable: ${error.message}`;
  $("post-button").disabled = true;
});
openBoard(client.board);
client.connect().catch(() => {});
