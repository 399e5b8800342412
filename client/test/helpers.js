// Shared by the live tests: the nodes pytest started (tests/client/test_sdk.py), waiting on
// conditions, and collecting a client's events.
import { OnusOneClient, seedSigner } from "@onusone/client";

export const env = {
  nodeA: process.env.ONUSONE_NODE_A,
  nodeB: process.env.ONUSONE_NODE_B,
  peerB: process.env.ONUSONE_PEER_B,
  token: process.env.ONUSONE_API_TOKEN,
  control: process.env.ONUSONE_CONTROL,
  limited: process.env.ONUSONE_LIMITED_NODE,
  postLimit: Number(process.env.ONUSONE_POST_LIMIT),
};

/** Skip a live file run outside pytest (which starts the nodes and sets these variables). */
export const live = env.nodeA ? {} : { skip: "needs nodes: run it through pytest tests/client" };
export const limited = env.limited ? {} : { skip: "needs a rate-limited node: run it through pytest tests/client" };

export async function waitFor(predicate, { timeout = 20000, interval = 25, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await new Promise((resolve) => setTimeout(resolve, interval));
  }
  throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Every `message` and `connection` event of `client`, in order. */
export function record(client) {
  const seen = { messages: [], states: [] };
  client.addEventListener("message", (event) => seen.messages.push(event.detail));
  client.addEventListener("connection", (event) => seen.states.push({ ...event.detail, at: Date.now() }));
  return seen;
}

export const randomSigner = () => seedSigner(crypto.getRandomValues(new Uint8Array(32)));

/** Post `content` to `nodeUrl` signed by a fresh key (another user, elsewhere); its CID. */
export async function postElsewhere(nodeUrl, content) {
  const other = new OnusOneClient(nodeUrl, { signer: randomSigner() });
  return (await other.broadcast(content, { author: "elsewhere" })).cid;
}

export async function control(action, node) {
  const response = await fetch(`${env.control}/${action}?node=${node}`, { method: "POST" });
  if (!response.ok) throw new Error(`control ${action} ${node}: HTTP ${response.status}`);
}
