// The protocol test vectors (tests/vectors/ at the repository root, written by
// tests/vectors/generate.py; see docs/PROTOCOL.md): the SDK's canonical bytes and signatures
// agree with the node's byte for byte, and CIDs computed here (sha-256, base32) match.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { canonicalBytes, canonicalJson, seedSigner, signEnvelope, toHex } from "@onusone/client";

const VECTORS = new URL("../../../tests/vectors/", import.meta.url);
const load = (name) => JSON.parse(readFileSync(new URL(name, VECTORS), "utf8"));

const fromHex = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => Number.parseInt(pair, 16));
const utf8 = (text) => new TextEncoder().encode(text);

function base32(bytes) {
  const alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return out;
}

function base58btc(bytes) {
  const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  let num = BigInt(`0x${toHex(bytes) || "0"}`);
  let out = "";
  while (num > 0n) {
    out = alphabet[Number(num % 58n)] + out;
    num /= 58n;
  }
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros += 1;
  return "1".repeat(zeros) + out;
}

// CIDv1, raw codec 0x55, sha2-256: 01 55 12 20 + digest.
function cidBytes(data) {
  const digest = createHash("sha256").update(data).digest();
  return Uint8Array.from([0x01, 0x55, 0x12, 0x20, ...digest]);
}
const cid = (data) => `b${base32(cidBytes(data))}`;

async function verifies(pubkeyHex, sigHex, bytes) {
  const key = await crypto.subtle.importKey("raw", fromHex(pubkeyHex), { name: "Ed25519" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "Ed25519" }, key, fromHex(sigHex), bytes);
}

const withoutSig = ({ sig, ...body }) => body;

test("vectors: canonical bytes are the node's", () => {
  for (const { name, value, canonical, hex } of load("canonical.json").cases) {
    assert.equal(canonicalJson(value), canonical, name);
    assert.equal(toHex(canonicalBytes(value)), hex, name);
  }
});

test("vectors: CIDv1 raw sha2-256 of bytes, printed base32 and base58btc", () => {
  const { cases, parse } = load("cids.json");
  for (const { name, bytes_hex: bytesHex, cid: text, cid_bytes_hex: cidHex, base58btc: b58 } of cases) {
    const bytes = cidBytes(fromHex(bytesHex));
    assert.equal(toHex(bytes), cidHex, name);
    assert.equal(`b${base32(bytes)}`, text, name);
    assert.equal(`z${base58btc(bytes)}`, b58, name);
  }
  const base32Form = parse.find((p) => p.text.startsWith("b"));
  assert.equal(base32Form.text, `b${base32(fromHex(base32Form.cid_bytes_hex))}`);
});

test("vectors: seed keys, signatures and signed envelopes", async () => {
  const { keys, signatures, envelopes } = load("signatures.json");
  const signers = {};
  for (const { name, seed_hex: seedHex, seed_base64: seedBase64, pubkey } of keys) {
    signers[name] = seedSigner(seedHex);
    assert.equal(await signers[name].publicKey(), pubkey, name);
    assert.equal(await seedSigner(seedBase64).publicKey(), pubkey, name);
  }
  for (const { key, message_hex: messageHex, sig } of signatures) {
    assert.equal(toHex(await signers[key].sign(fromHex(messageHex))), sig);
  }
  for (const { key, unsigned, signing_bytes: signingBytes, envelope, canonical, cid: text } of envelopes) {
    const signed = await signEnvelope(unsigned, signers[key]);
    assert.deepEqual(signed, envelope);
    assert.equal(canonicalJson(withoutSig(signed)), signingBytes);
    assert.equal(canonicalJson(signed), canonical);
    assert.equal(cid(canonicalBytes(signed)), text);
  }
});

test("vectors: valid envelopes verify and have their CID; tampered ones do not verify", async () => {
  const { valid, invalid } = load("envelopes.json");
  for (const { name, envelope, signing_bytes: signingBytes, canonical, cid: text } of valid) {
    assert.equal(canonicalJson(withoutSig(envelope)), signingBytes, name);
    assert.equal(canonicalJson(envelope), canonical, name);
    assert.equal(cid(utf8(canonical)), text, name);
    assert.ok(await verifies(envelope.pubkey, envelope.sig, utf8(signingBytes)), name);
  }
  const forged = invalid.filter((v) => v.code === "bad_signature");
  assert.ok(forged.length >= 2);
  for (const { name, body } of forged) {
    const envelope = JSON.parse(body);
    assert.equal(await verifies(envelope.pubkey, envelope.sig, canonicalBytes(withoutSig(envelope))), false, name);
  }
  // The codes docs/PROTOCOL.md lists for envelopes (the JS SDK does not validate envelopes itself).
  const codes = ["too_large", "invalid_json", "invalid_utf8", "too_deep", "unknown_fields", "missing_fields", "invalid_field", "invalid_board", "content_too_large", "clock_skew", "bad_signature"];
  for (const { name, code } of invalid) assert.ok(codes.includes(code), `${name}: ${code}`);
});

test("vectors: head manifest pages are canonical, signed, and stored under their CID", async () => {
  const { valid, invalid } = load("manifests.json");
  for (const { name, bytes, cid: text, prev, pages } of valid) {
    const page = JSON.parse(bytes);
    assert.equal(canonicalJson(page), bytes, name);
    assert.equal(cid(utf8(bytes)), text, name);
    assert.ok(await verifies(page.pubkey, page.sig, canonicalBytes(withoutSig(page))), name);
    assert.equal(page.prev, prev, name);
    assert.deepEqual(page.pages ?? [], pages, name);
    for (const envelope of page.messages) {
      assert.ok(await verifies(envelope.pubkey, envelope.sig, canonicalBytes(withoutSig(envelope))), name);
    }
  }
  const mismatch = invalid.find((v) => v.reason === "cid_mismatch");
  assert.notEqual(cid(utf8(mismatch.bytes)), mismatch.cid);
  const tampered = JSON.parse(invalid.find((v) => v.reason === "signature").bytes);
  assert.equal(await verifies(tampered.pubkey, tampered.sig, canonicalBytes(withoutSig(tampered))), false);
});

test("vectors: pubsub topics and payloads on the RPC wire are multibase base64url", () => {
  const { topic, topic_rpc: topicRpc, valid } = load("announcements.json");
  const u = (bytes) => `u${Buffer.from(bytes).toString("base64url")}`;
  assert.equal(u(utf8(topic)), topicRpc);
  for (const { kind, data, data_rpc: dataRpc } of valid) {
    assert.equal(u(utf8(data)), dataRpc, kind);
    const announcement = JSON.parse(data);
    assert.equal(announcement.kind, kind);
    if (kind === "message") assert.equal(cid(canonicalBytes(announcement.envelope)), announcement.cid);
  }
});
