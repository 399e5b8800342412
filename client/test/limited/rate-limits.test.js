// OnusOneClient against a real node with its rate limits on and small (tests/client/test_sdk.py
// sets RATE_LIMIT_ADDRESS and RATE_LIMIT_READS): the typed 429, and reconnects that wait out the
// node's Retry-After instead of their own shorter backoff. All of it spends one address's
// budgets, so it stays one file (node --test runs files at the same time, tests in turn).
import assert from "node:assert/strict";
import { test } from "node:test";

import { OnusOneClient, RateLimitedError } from "@onusone/client";

import { env, limited, randomSigner, record, waitFor } from "../helpers.js";

// A backoff far below any Retry-After (at least 1 s): a wait as long as the node's can only
// come from honouring it.
const SHORT = { initial: 50, max: 100, jitter: 0 };
// Each test's clients stop with it: a client still polling would spend the next test's reads.
function client(t, options = {}) {
  const made = new OnusOneClient(env.limited, { backoff: SHORT, ...options });
  t.after(() => made.disconnect());
  return made;
}

/** `fetch` that notes each answer's status and Retry-After, and when each poll was sent. */
function watchedFetch() {
  const seen = { answers: [], polls: [] };
  const watched = async (url, init) => {
    if (String(url).includes("/api/poll")) seen.polls.push(Date.now());
    const response = await fetch(url, init);
    seen.answers.push({ status: response.status, retryAfter: response.headers.get("retry-after") });
    return response;
  };
  return { fetch: watched, seen };
}

function assertRateLimited(error, scope) {
  assert.ok(error instanceof RateLimitedError, `${error?.name}: ${error?.message}`);
  assert.equal(error.status, 429);
  assert.equal(error.error, "rate_limited");
  assert.match(error.detail, new RegExp(`for this ${scope}; retry in ${error.retryAfter} s`));
  assert.ok(Number.isInteger(error.retryAfter) && error.retryAfter >= 1, `retryAfter ${error.retryAfter}`);
  assert.equal(error.retryable, true);
}

/** Spend this address's read budget with status() until the node refuses; the 429. */
async function spendReads(reader) {
  for (let i = 0; i < 100; i += 1) {
    try {
      await reader.status();
    } catch (error) {
      return error;
    }
  }
  throw new Error("100 reads and no 429: is RATE_LIMIT_READS small on this node?");
}

test("broadcast over the post limit rejects with RateLimitedError: rate_limited, detail, Retry-After", limited, async (t) => {
  const { fetch: watched, seen } = watchedFetch();
  const writer = client(t, { signer: randomSigner(), fetch: watched });
  let accepted = 0;
  let refused = null;
  while (!refused && accepted <= env.postLimit) {
    try {
      assert.equal((await writer.broadcast(`post ${accepted}`, { author: "flooder" })).success, true);
      accepted += 1;
    } catch (error) {
      refused = error;
    }
  }
  assert.ok(accepted <= env.postLimit, `${accepted} posts accepted over a limit of ${env.postLimit}`);
  assertRateLimited(refused, "address");
  const answer = seen.answers.at(-1);
  assert.equal(answer.status, 429);
  assert.equal(refused.retryAfter, Number(answer.retryAfter), "retryAfter is the Retry-After header");
  assert.ok(refused.retryAfter <= 60, "within the one-minute window");
});

test("a read over the limit is a RateLimitedError too (GET /api/status)", limited, async (t) => {
  const { fetch: watched, seen } = watchedFetch();
  const error = await spendReads(client(t, { fetch: watched }));
  assertRateLimited(error, "reads");
  assert.equal(error.retryAfter, Number(seen.answers.at(-1).retryAfter));
});

test("a WebSocket closed with 4429 waits out the Retry-After, then connects over WebSocket again", limited, async (t) => {
  const opened = [];
  class CountedWebSocket extends WebSocket {
    constructor(url, protocols) {
      super(url, protocols);
      opened.push(Date.now());
    }
  }
  const reader = client(t, { WebSocket: CountedWebSocket });
  const seen = record(reader);
  await spendReads(reader);
  const connecting = reader.connect();
  const waiting = await waitFor(() => seen.states.find((s) => s.state === "reconnecting"), { what: "the refused WebSocket" });
  assertRateLimited(waiting.error, "reads");
  assert.ok(waiting.retryAt - waiting.at >= waiting.error.retryAfter * 1000 - 5, `waits ${waiting.retryAt - waiting.at} ms for Retry-After ${waiting.error.retryAfter} s`);

  await connecting;
  assert.equal(reader.connection.transport, "websocket", "a rate-limited node is not a reason to poll");
  assert.equal(opened.length, 2, "one refused socket, then one after the wait");
  assert.ok(opened[1] >= waiting.retryAt, `reopened ${waiting.retryAt - opened[1]} ms before the wait was over`);
});

test("long-polling waits out a 429's Retry-After before its next poll", limited, async (t) => {
  const { fetch: watched, seen: requests } = watchedFetch();
  const reader = client(t, { WebSocket: null, fetch: watched, pollWait: 1 });
  const seen = record(reader);
  await spendReads(reader);
  const connecting = reader.connect();
  const waiting = await waitFor(() => seen.states.find((s) => s.state === "reconnecting"), { what: "the refused poll" });
  assertRateLimited(waiting.error, "reads");
  const refusedPolls = requests.polls.length;
  assert.equal(refusedPolls, 1);
  assert.ok(waiting.retryAt - waiting.at >= waiting.error.retryAfter * 1000 - 5);

  await connecting;
  assert.equal(reader.connection.transport, "polling");
  assert.ok(requests.polls[1] >= waiting.retryAt, `polled again ${waiting.retryAt - requests.polls[1]} ms early`);
});
