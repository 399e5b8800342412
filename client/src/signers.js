// Signers: who signs an envelope. A signer is `{ publicKey(): Promise<hex>, sign(bytes):
// Promise<Uint8Array> }`; the node accepts such posts from anyone, without a token.
import { canonicalBytes, toHex } from "./canonical.js";

const PKCS8_ED25519_PREFIX = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

function fromHex(hex) {
  return Uint8Array.from(hex.match(/../g), (pair) => Number.parseInt(pair, 16));
}

function fromBase64(text) {
  const plain = text.replace(/-/g, "+").replace(/_/g, "/");
  return Uint8Array.from(atob(plain.padEnd(Math.ceil(plain.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
}

function seedBytes(seed) {
  if (seed instanceof Uint8Array) return seed;
  if (seed instanceof ArrayBuffer) return new Uint8Array(seed);
  if (typeof seed === "string") {
    const text = seed.trim();
    return /^[0-9a-fA-F]{64}$/.test(text) ? fromHex(text) : fromBase64(text);
  }
  throw new TypeError("a seed is 32 bytes: a Uint8Array, 64 hex characters or base64");
}

function keySigner(privateKey, pubkey) {
  return {
    publicKey: async () => pubkey,
    sign: async (bytes) => new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, privateKey, bytes)),
  };
}

/**
 * A signer from a raw 32-byte Ed25519 seed (hex, base64 as in a node key file, or bytes):
 * for Node scripts, bots and tests. Works wherever WebCrypto has Ed25519 (Node 20, browsers).
 */
export function seedSigner(seed) {
  const raw = seedBytes(seed);
  if (raw.length !== 32) throw new TypeError(`an Ed25519 seed is 32 bytes, got ${raw.length}`);
  const pkcs8 = new Uint8Array([...PKCS8_ED25519_PREFIX, ...raw]);
  const ready = crypto.subtle.importKey("pkcs8", pkcs8, { name: "Ed25519" }, true, ["sign"]).then(async (key) => {
    const jwk = await crypto.subtle.exportKey("jwk", key);
    return keySigner(key, toHex(fromBase64(jwk.x)));
  });
  return {
    publicKey: async () => (await ready).publicKey(),
    sign: async (bytes) => (await ready).sign(bytes),
  };
}

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function loadOrCreate(dbName, keyId) {
  const request = indexedDB.open(dbName, 1);
  request.onupgradeneeded = () => request.result.createObjectStore("keys");
  const db = await done(request);
  try {
    let pair = await done(db.transaction("keys").objectStore("keys").get(keyId));
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      await done(db.transaction("keys", "readwrite").objectStore("keys").put(pair, keyId));
    }
    return keySigner(pair.privateKey, toHex(await crypto.subtle.exportKey("raw", pair.publicKey)));
  } finally {
    db.close();
  }
}

const browserKeys = new Map();

/**
 * The browser user's own key: made on first use with WebCrypto, kept in IndexedDB (database
 * `dbName`, store "keys", entry `keyId`), private half not extractable, so it never leaves
 * this browser profile. One key per (dbName, keyId) for the whole page.
 */
export function browserSigner({ dbName = "onusone", keyId = "user" } = {}) {
  const id = `${dbName}\u0000${keyId}`;
  if (!browserKeys.has(id)) {
    const ready = loadOrCreate(dbName, keyId);
    ready.catch(() => browserKeys.delete(id));
    browserKeys.set(id, ready);
  }
  const ready = browserKeys.get(id);
  return {
    publicKey: async () => (await ready).publicKey(),
    sign: async (bytes) => (await ready).sign(bytes),
  };
}

/** `unsigned` with `pubkey` and `sig` set: the signature covers the canonical bytes without `sig`. */
export async function signEnvelope(unsigned, signer) {
  const body = { ...unsigned, pubkey: await signer.publicKey() };
  delete body.sig;
  return { ...body, sig: toHex(await signer.sign(canonicalBytes(body))) };
}
