// Canonical bytes of an envelope, byte for byte what the node computes with Python's
// json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8").
// JSON.stringify escapes strings exactly as Python does (\" \\ \b \f \n \r \t, other control
// characters as lowercase \u00xx, everything else raw); keys are sorted by code point as
// Python sorts them; non-integers and lone surrogates, which the two encode differently (or
// not at all), are refused.

function codePointOrder(a, b) {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function text(value) {
  if (!value.isWellFormed()) throw new TypeError("text contains a lone surrogate, not valid Unicode");
  return JSON.stringify(value);
}

export function canonicalJson(value) {
  if (typeof value === "string") return text(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only safe integers have one canonical form");
    return JSON.stringify(value);
  }
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort(codePointOrder);
    return `{${keys.map((key) => `${text(key)}:${canonicalJson(value[key])}`).join(",")}}`;
  }
  throw new TypeError(`no canonical JSON form for ${typeof value}`);
}

export function canonicalBytes(value) {
  return new TextEncoder().encode(canonicalJson(value));
}

export function toHex(bytes) {
  return Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
}
