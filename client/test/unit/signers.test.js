// Signers and canonical bytes in Node: the RFC 8032 test vector, envelopes that verify.
import assert from "node:assert/strict";
import { test } from "node:test";

import { canonicalBytes, canonicalJson, seedSigner, signEnvelope, toHex } from "@onusone/client";

// RFC 8032, section 7.1, TEST 1 (empty message).
const SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const SIGNATURE =
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b";

test("a seed signer reproduces RFC 8032 test 1 from hex, base64 and bytes", async () => {
  const bytes = Uint8Array.from(SEED.match(/../g), (h) => Number.parseInt(h, 16));
  const base64 = btoa(String.fromCharCode(...bytes));
  for (const seed of [SEED, base64, bytes]) {
    const signer = seedSigner(seed);
    assert.equal(await signer.publicKey(), PUBLIC);
    assert.equal(toHex(await signer.sign(new Uint8Array())), SIGNATURE);
  }
  assert.throws(() => seedSigner("abcd"), TypeError);
});

test("signEnvelope signs the canonical bytes without sig, and the signature verifies", async () => {
  const unsigned = { v: 1, type: "message", board: "general", content: "héllo ✓", author: "Zoë", ts: 1764000000000 };
  const envelope = await signEnvelope({ ...unsigned, sig: "old" }, seedSigner(SEED));
  assert.equal(envelope.pubkey, PUBLIC);
  assert.match(envelope.sig, /^[0-9a-f]{128}$/);
  const { sig, ...body } = envelope;
  const key = await crypto.subtle.importKey("raw", Uint8Array.from(PUBLIC.match(/../g), (h) => Number.parseInt(h, 16)), { name: "Ed25519" }, false, ["verify"]);
  const signature = Uint8Array.from(sig.match(/../g), (h) => Number.parseInt(h, 16));
  assert.ok(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, canonicalBytes(body)));
  assert.equal(await crypto.subtle.verify({ name: "Ed25519" }, key, signature, canonicalBytes({ ...body, content: "other" })), false);
});

test("canonical JSON is Python's sort_keys/compact/ensure_ascii=False form", () => {
  assert.equal(canonicalJson({ b: 1, a: [true, null, "x"], é: { z: "", A: -5 } }), '{"a":[true,null,"x"],"b":1,"é":{"A":-5,"z":""}}');
  assert.equal(canonicalJson({ "\u{1d11e}": 1, "\uffff": 2 }), '{"\uffff":2,"\u{1d11e}":1}');
  assert.equal(canonicalJson("\u0000\u001f\u007f\n\"\\"), '"\\u0000\\u001f\u007f\\n\\"\\\\"');
  for (const value of [{ ts: 1.5 }, { ts: 2 ** 60 }, { content: "a\ud800b" }]) assert.throws(() => canonicalJson(value), TypeError);
});
