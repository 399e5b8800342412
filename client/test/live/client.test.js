// OnusOneClient against two real node processes on two connected real IPFS daemons.
import assert from "node:assert/strict";
import { after, test } from "node:test";

import { BadRequestError, OnusOneClient, UnauthorizedError, UnknownBoardError, seedSigner } from "@onusone/client";

import { control, env, live, postElsewhere, randomSigner, record, waitFor } from "../helpers.js";
import { refusingWebSocketProxy } from "../proxy.js";

const clients = [];
function client(url, options = {}) {
  const made = new OnusOneClient(url, { backoff: { initial: 200, max: 2000 }, ...options });
  clients.push(made);
  return made;
}
after(() => clients.forEach((c) => c.disconnect()));

const cids = (seen) => seen.messages.map((m) => m.cid);

test("connects over WebSocket and receives a message posted on another node", live, async () => {
  const reader = client(env.nodeA);
  const seen = record(reader);
  await reader.connect();
  assert.equal(reader.connection.state, "connected");
  assert.equal(reader.connection.transport, "websocket");
  assert.ok(reader.lastStatus?.nodeId, "the hello carries the node status");

  const cid = await postElsewhere(env.nodeB, "from the other node ✓");
  await waitFor(() => cids(seen).includes(cid), { what: "the message from node B" });
  const message = seen.messages.find((m) => m.cid === cid);
  assert.equal(message.envelope.content, "from the other node ✓");
  assert.notEqual(message.source, "local");
});

test("resumes after the node restarts: nothing missed, nothing twice", live, async () => {
  // The client's own health checks are held while the node is down and back, so the posts
  // made in between are certainly made while it is disconnected.
  let gate = null;
  const gatedFetch = async (url, init) => {
    if (String(url).endsWith("/health")) await gate?.promise;
    return fetch(url, init);
  };
  const reader = client(env.nodeA, { fetch: gatedFetch });
  const seen = record(reader);
  await reader.connect();
  const first = await postElsewhere(env.nodeA, "before the restart");
  await waitFor(() => cids(seen).includes(first), { what: "the first message" });

  let release;
  gate = { promise: new Promise((resolve) => (release = resolve)) };
  await control("stop", "a");
  await waitFor(() => reader.connection.state === "reconnecting", { what: "the client to notice" });
  await control("start", "a");
  const missed = [];
  for (const text of ["while away 1", "while away 2", "while away 3"]) missed.push(await postElsewhere(env.nodeA, text));
  assert.equal(reader.connection.state, "reconnecting", "posted while the client was away");
  release();
  gate = null;
  await waitFor(() => cids(seen).includes(missed.at(-1)), { timeout: 30000, what: "the missed messages" });
  const next = await postElsewhere(env.nodeA, "after the reconnect");
  await waitFor(() => cids(seen).includes(next), { what: "a live message after the reconnect" });

  assert.deepEqual(cids(seen), [first, ...missed, next]);
  assert.equal(reader.connection.transport, "websocket");
  assert.ok(seen.states.some((s) => s.state === "reconnecting" && s.attempt >= 1 && s.retryAt > 0));
});

test("falls back to long-polling when WebSocket is refused, and still misses nothing", live, async (t) => {
  const proxy = await refusingWebSocketProxy(env.nodeA);
  t.after(() => proxy.close());
  const reader = client(proxy.url);
  const seen = record(reader);
  await reader.connect();
  assert.equal(reader.connection.transport, "polling");
  assert.ok(proxy.refusedUpgrades >= 2, "WebSocket was tried before polling");
  const posted = [];
  for (const text of ["polled 1", "polled 2"]) {
    posted.push(await postElsewhere(env.nodeA, text));
    await waitFor(() => cids(seen).includes(posted.at(-1)), { what: text });
  }
  assert.deepEqual(cids(seen), posted);
  assert.equal(reader.connection.transport, "polling");
});

test("polls from the start when no WebSocket implementation is given", live, async () => {
  const reader = client(env.nodeA, { WebSocket: null, pollWait: 5 });
  const seen = record(reader);
  await reader.connect();
  assert.equal(reader.connection.transport, "polling");
  const cid = await postElsewhere(env.nodeB, "polled across nodes");
  await waitFor(() => cids(seen).includes(cid), { what: "the message from node B" });
});

test("signs client-side and broadcasts: the node stores exactly what was signed", live, async () => {
  const signer = randomSigner();
  const writer = client(env.nodeA, { signer });
  const content = 'héllo ✓ 😀 «» "quoted" back\\slash\nline\ttab </script> \u2028 𝄞 日本語';
  const answer = await writer.broadcast(content, { author: "Zoë", id: "sdk-1" });
  assert.equal(answer.success, true);
  assert.ok(answer.pinned && answer.announced);
  const reply = await writer.broadcast("a reply", { author: "Zoë", parent: answer.cid });

  const stored = (await writer.message(answer.cid)).envelope;
  assert.equal(stored.content, content);
  assert.equal(stored.author, "Zoë");
  assert.equal(stored.id, "sdk-1");
  assert.equal(stored.pubkey, await signer.publicKey());
  assert.equal((await writer.message(reply.cid)).envelope.parent, answer.cid);

  const duplicate = await writer.broadcast(content, { author: "Zoë", id: "sdk-1", ts: stored.ts });
  assert.equal(duplicate.cid, answer.cid, "the same envelope is the same message");
});

test("lists the board page by page and reads status and peers", live, async () => {
  const reader = client(env.nodeA, { board: "general" });
  const posted = [];
  for (let i = 0; i < 3; i += 1) posted.push(await postElsewhere(env.nodeA, `page ${i}`));
  const first = await reader.messages({ limit: 2 });
  assert.deepEqual(first.messages.map((m) => m.cid), [posted[2], posted[1]]);
  const second = await reader.messages({ limit: 2, before: first.nextCursor });
  assert.equal(second.messages[0].cid, posted[0]);

  const status = await reader.status();
  assert.ok(status.connectedPeers >= 1);
  assert.equal(typeof status.networkHealth, "string");
  const peers = await reader.peers();
  const peer = peers.find((p) => p.id === env.peerB);
  assert.ok(peer, `node B's daemon ${env.peerB} among ${peers.map((p) => p.id)}`);
  assert.ok(peer.reputation >= 0 && peer.reputation <= 100);
});

test("typed errors carry the node's error and detail (400, unknown_board, 401, 403)", live, async () => {
  const signed = client(env.nodeA, { signer: randomSigner() });
  await assert.rejects(signed.broadcast("x".repeat(17 * 1024), { author: "big" }), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.error, "content_too_large");
    assert.match(error.detail, /\S/);
    return true;
  });
  await assert.rejects(signed.broadcast("hi", { board: "Not A Board" }), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.error, "invalid_board");
    return true;
  });
  await assert.rejects(signed.broadcast("hi", { board: "news" }), (error) => {
    assert.ok(error instanceof UnknownBoardError, error.name);
    assert.equal(error.status, 400);
    assert.equal(error.error, "unknown_board");
    assert.match(error.detail, /it serves: general/);
    assert.equal(error.retryable, false);
    return true;
  });

  const anonymous = client(env.nodeA);
  await assert.rejects(anonymous.broadcast("plain"), (error) => {
    assert.ok(error instanceof UnauthorizedError);
    assert.equal(error.status, 401);
    assert.equal(error.error, "unauthorized");
    assert.match(error.detail, /token/);
    assert.equal(error.retryable, false);
    return true;
  });
  const wrongToken = client(env.nodeA, { token: "not-the-token" });
  await assert.rejects(wrongToken.broadcast("plain"), { name: "UnauthorizedError", status: 403, error: "forbidden" });
  const withToken = client(env.nodeA, { token: env.token });
  const answer = await withToken.broadcast("signed by the node", { author: "bot" });
  assert.equal((await withToken.message(answer.cid)).envelope.author, "bot");
});

test("connect() rejects with the node's reason for a board it refuses (bad name, not served)", live, async () => {
  const reader = client(env.nodeA, { board: "Bad_Board" });
  const seen = record(reader);
  await assert.rejects(reader.connect(), (error) => {
    assert.ok(error instanceof BadRequestError);
    assert.ok(error.error, "the code from the close reason");
    return true;
  });
  assert.equal(reader.connection.state, "disconnected");
  assert.ok(seen.states.at(-1).error);

  const elsewhere = client(env.nodeA, { board: "news" });
  await assert.rejects(elsewhere.connect(), (error) => {
    assert.ok(error instanceof UnknownBoardError, error.name);
    assert.equal(error.error, "unknown_board");
    assert.match(error.detail, /does not serve board 'news'/);
    return true;
  });
});

test("a seed signer signs as the same key everywhere", live, async () => {
  const seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
  const writer = client(env.nodeA, { signer: seedSigner(seed) });
  const { cid } = await writer.broadcast("RFC 8032 key", { author: "rfc" });
  const { envelope } = await writer.message(cid);
  assert.equal(envelope.pubkey, "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
});
