// Typed errors. Every answer the node refuses carries its `{"error", "detail"}` (docs/API.md
// in the node's repository): the class says what kind of failure it is, `error` the node's code, `detail` its
// sentence, `retryAfter` the seconds the node asked for (429 Retry-After).

export class OnusOneError extends Error {
  constructor(message, { status = null, error = null, detail = null, retryAfter = null, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = new.target.name;
    this.status = status;
    this.error = error;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }

  /** Whether trying again later can succeed (network trouble, busy or rate-limited node). */
  get retryable() {
    return this.status === null || this.status === 408 || this.status === 429 || (this.status >= 500 && this.status !== 507);
  }
}

/** The node could not be reached at all (refused, reset, DNS, offline). */
export class NetworkError extends OnusOneError {}
/** 400/413/422: the request or the message is malformed or over a limit. */
export class BadRequestError extends OnusOneError {}
/** 401/403: a plain (node-signed) post without an allowed API token. */
export class UnauthorizedError extends OnusOneError {}
/** 4xx `unknown_board`: the node does not carry this board. */
export class UnknownBoardError extends OnusOneError {}
/** 404 for anything else (a message id the node does not have). */
export class NotFoundError extends OnusOneError {}
/** 429 `rate_limited`: `retryAfter` says how many seconds to wait. */
export class RateLimitedError extends OnusOneError {}
/** 507 `storage_full`: the node is out of its storage budget. */
export class StorageFullError extends OnusOneError {}
/** 5xx other than 507: the node is busy or broken; retry later. */
export class NodeUnavailableError extends OnusOneError {}

function classFor(status, code) {
  if (code === "unknown_board") return UnknownBoardError;
  if (status === 429 || code === "rate_limited") return RateLimitedError;
  if (status === 507 || code === "storage_full") return StorageFullError;
  if (status === 401 || status === 403) return UnauthorizedError;
  if (status === 404) return NotFoundError;
  if (status >= 500) return NodeUnavailableError;
  return BadRequestError;
}

/** Seconds from a Retry-After header (delta-seconds or an HTTP date), or null. */
export function parseRetryAfter(value, now = Date.now()) {
  if (value === null || value === undefined || value === "") return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** The typed error for a node's error answer, from its status, body and Retry-After. */
export function errorFor(status, body, retryAfterHeader = null) {
  const code = typeof body?.error === "string" ? body.error : null;
  const detail = typeof body?.detail === "string" ? body.detail : null;
  const retryAfter = parseRetryAfter(retryAfterHeader) ?? (typeof body?.retryAfter === "number" ? body.retryAfter : null);
  const Kind = classFor(status, code);
  const message = `${code ?? `HTTP ${status}`}${detail ? `: ${detail}` : ""}`;
  return new Kind(message, { status, error: code, detail, retryAfter });
}

export async function errorFromResponse(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return errorFor(response.status, body, response.headers.get("retry-after"));
}

/** The HTTP status each of the node's deliberate close codes stands for. */
export const CLOSE_STATUS = { 4400: 400, 4429: 429, 1013: 503 };

/**
 * A WebSocket close the node made on purpose ("error: detail" as the reason, docs/API.md /ws). A
 * close has no headers: for 4429 the wait comes from the detail's "retry in N s".
 */
export function errorFromClose(code, reason) {
  const match = /^([a-z_]+): (.*)$/s.exec(reason ?? "");
  const body = match ? { error: match[1], detail: match[2] } : { error: null, detail: reason || null };
  const wait = code === 4429 ? /retry in (\d+) s/.exec(body.detail ?? "")?.[1] : null;
  return errorFor(CLOSE_STATUS[code] ?? 400, body, wait ?? null);
}
