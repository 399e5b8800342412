// @onusone/client: the SDK for board front ends (browser and Node 20, no dependencies).
export { OnusOneClient } from "./client.js";
export { browserSigner, seedSigner, signEnvelope } from "./signers.js";
export { canonicalBytes, canonicalJson, toHex } from "./canonical.js";
export {
  BadRequestError,
  NetworkError,
  NodeUnavailableError,
  NotFoundError,
  OnusOneError,
  RateLimitedError,
  StorageFullError,
  UnauthorizedError,
  UnknownBoardError,
  errorFor,
  errorFromResponse,
  parseRetryAfter,
} from "./errors.js";
