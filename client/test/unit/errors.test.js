// Typed errors from the node's answers: a real HTTP server on 127.0.0.1 answers each error the
// node gives (DESIGN: HTTP API), including those of limits not every node version has yet.
import assert from "node:assert/strict";
import http from "node:http";
import { after, before, test } from "node:test";

import {
  BadRequestError,
  NetworkError,
  NodeUnavailableError,
  OnusOneClient,
  OnusOneError,
  RateLimitedError,
  StorageFullError,
  UnauthorizedError,
  UnknownBoardError,
  parseRetryAfter,
} from "@onusone/client";

const ANSWERS = {
  "/rate": [429, { error: "rate_limited", detail: "over 10 posts a minute" }, { "Retry-After": "7" }],
  "/board": [404, { error: "unknown_board", detail: "this node does not carry board x" }],
  "/full": [507, { error: "storage_full", detail: "storage budget of 100 MB used" }],
  "/token": [401, { error: "unauthorized", detail: "an unsigned message needs an API token" }],
  "/bad": [400, { error: "bad_request", detail: "limit must be an integer" }],
  "/busy": [503, { error: "busy", detail: "retry later" }],
  "/html": [502, null],
};

let server;
let base;
before(async () => {
  server = http.createServer((request, response) => {
    // /<case>/health answers 200 (the node is up); every other /<case>/... gives the case.
    const [, name, ...rest] = new URL(request.url, "http://x").pathname.split("/");
    const healthy = rest.join("/") === "health";
    const [status, body, headers] = healthy ? [200, { status: "ok" }] : ANSWERS[`/${name}`];
    response.writeHead(status, { "Content-Type": body ? "application/json" : "text/html", ...headers });
    response.end(body ? JSON.stringify(body) : "<h1>Bad gateway</h1>");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

async function failure(path) {
  const client = new OnusOneClient(`${base}${path}`);
  try {
    await client.status();
  } catch (error) {
    return error;
  }
  throw new Error(`${path} did not fail`);
}

test("429 rate_limited carries Retry-After in seconds and is retryable", async () => {
  const error = await failure("/rate");
  assert.ok(error instanceof RateLimitedError && error instanceof OnusOneError);
  assert.deepEqual([error.status, error.error, error.detail, error.retryAfter], [429, "rate_limited", "over 10 posts a minute", 7]);
  assert.equal(error.retryable, true);
});

test("each error code has its own class", async () => {
  const cases = [
    ["/board", UnknownBoardError, "unknown_board", false],
    ["/full", StorageFullError, "storage_full", false],
    ["/token", UnauthorizedError, "unauthorized", false],
    ["/bad", BadRequestError, "bad_request", false],
    ["/busy", NodeUnavailableError, "busy", true],
  ];
  for (const [path, Kind, code, retryable] of cases) {
    const error = await failure(path);
    assert.ok(error instanceof Kind, `${path}: ${error.name}`);
    assert.equal(error.name, Kind.name);
    assert.equal(error.error, code);
    assert.equal(error.retryable, retryable, path);
    assert.match(error.message, new RegExp(code));
  }
});

test("an answer without the JSON error body still gives a typed error", async () => {
  const error = await failure("/html");
  assert.ok(error instanceof NodeUnavailableError);
  assert.deepEqual([error.status, error.error, error.detail], [502, null, null]);
});

test("an unreachable node is a NetworkError", async () => {
  const closed = http.createServer();
  await new Promise((resolve) => closed.listen(0, "127.0.0.1", resolve));
  const port = closed.address().port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(new OnusOneClient(`http://127.0.0.1:${port}`).status(), (error) => {
    assert.ok(error instanceof NetworkError);
    assert.equal(error.retryable, true);
    return true;
  });
});

test("Retry-After as seconds or as an HTTP date", () => {
  assert.equal(parseRetryAfter("120"), 120);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(parseRetryAfter("Thu, 01 Jan 2026 00:00:30 GMT", now), 30);
  assert.equal(parseRetryAfter(null), null);
  assert.equal(parseRetryAfter("soon"), null);
});

test("a rate-limited live feed waits at least Retry-After before its next attempt", async () => {
  const client = new OnusOneClient(`${base}/rate`, { WebSocket: null });
  const states = [];
  client.addEventListener("connection", (event) => states.push(event.detail));
  const started = Date.now();
  const connecting = client.connect();
  while (!states.some((s) => s.state === "reconnecting")) await new Promise((resolve) => setTimeout(resolve, 10));
  client.disconnect();
  await assert.rejects(connecting, { error: "disconnected" });
  const waiting = states.find((s) => s.state === "reconnecting");
  assert.ok(waiting.error instanceof RateLimitedError);
  assert.ok(waiting.retryAt - started >= 7000, `retry in ${waiting.retryAt - started} ms`);
});
