// The user's own Ed25519 key, made and kept in this browser (IndexedDB, private key not
// extractable), and envelope signing with it: the node never needs a token for these posts.
import { canonicalBytes, toHex } from "./canonical.js";

const DB_NAME = "onusone";
const STORE = "keys";
const KEY_ID = "user";

function done(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function openDb() {
  const request = indexedDB.open(DB_NAME, 1);
  request.onupgradeneeded = () => request.result.createObjectStore(STORE);
  return done(request);
}

async function loadOrCreate() {
  const db = await openDb();
  try {
    let pair = await done(db.transaction(STORE).objectStore(STORE).get(KEY_ID));
    if (!pair) {
      pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
      await done(db.transaction(STORE, "readwrite").objectStore(STORE).put(pair, KEY_ID));
    }
    const pubkey = toHex(await crypto.subtle.exportKey("raw", pair.publicKey));
    return { privateKey: pair.privateKey, pubkey };
  } finally {
    db.close();
  }
}

let identity = null;

export function userIdentity() {
  identity ??= loadOrCreate();
  return identity;
}

export async function signEnvelope(unsigned, key) {
  const body = { ...unsigned, pubkey: key.pubkey };
  delete body.sig;
  const sig = await crypto.subtle.sign({ name: "Ed25519" }, key.privateKey, canonicalBytes(body));
  return { ...body, sig: toHex(sig) };
}
