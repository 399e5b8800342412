// Types of @onusone/client (hand-written; the package ships plain ES modules, no build step).

/** A signed message envelope (DESIGN: Messages). */
export interface Envelope {
  v: 1;
  type: "message";
  board: string;
  content: string;
  author: string;
  ts: number;
  pubkey: string;
  sig: string;
  id?: string;
  parent?: string;
}

/** A message as the node lists and streams it. */
export interface StoredMessage {
  cid: string;
  envelope: Envelope;
  source: string;
  [field: string]: unknown;
}

export interface CatchUpProgress {
  caughtUp: boolean;
  pagesPending: number;
  messagesPending: number | null;
  rate: number;
}

/** `GET /api/status`. */
export interface NodeStatus {
  nodeId: string;
  connectedPeers: number;
  networkHealth: string;
  /** Messages in the index, every board. */
  messagesSynced: number;
  /** Messages in the index per served board, on nodes that report it. */
  boardMessages?: Record<string, number>;
  storageUsed: number;
  ipfs: { reachable: boolean; api?: string; version: string | null; peerId: string | null; agent?: string; error?: string };
  uptime: number;
  boards: string[];
  subscriptions?: Record<string, string>;
  outbox?: number;
  version: string;
  /** Per-board catch-up progress, on nodes that report it. */
  catchUp?: Record<string, CatchUpProgress>;
  [field: string]: unknown;
}

/** One entry of `GET /api/peers`. */
export interface Peer {
  id: string;
  multiaddr: string | null;
  connected: boolean;
  reputation: number;
  ignoredFor: number;
  lastSeen: string | null;
  /** Valid messages this peer's daemon published (pubsub `from`), not ones it only forwarded. */
  messagesPublished?: number;
  /** Older name of `messagesPublished`, same value. */
  messagesRelayed: number;
  invalidMessages: number;
  firstDeliveries: number;
  invalidReasons: Record<string, number>;
}

export interface MessagePage {
  board: string;
  nextCursor: string | null;
  messages: StoredMessage[];
}

/** The node's answer to a broadcast. */
export interface BroadcastResult {
  success: boolean;
  cid: string;
  /** Neighbours of the node's daemon subscribed to the board when it was announced. */
  broadcastTo: number;
  pinned: boolean;
  announced: boolean;
  queued?: boolean;
  duplicate?: boolean;
}

export interface BroadcastOptions {
  author?: string;
  parent?: string;
  /** The client's own id (default: a random UUID; null for none). */
  id?: string | null;
  board?: string;
  ts?: number;
}

export type ConnectionState = "disconnected" | "connecting" | "connected" | "reconnecting";

export interface Connection {
  state: ConnectionState;
  transport: "websocket" | "polling" | null;
  /** Failed attempts since the feed was last live. */
  attempt: number;
  /** When the next attempt starts (ms since the epoch), while reconnecting. */
  retryAt: number | null;
  error: OnusOneError | null;
}

export interface Signer {
  publicKey(): Promise<string>;
  sign(bytes: Uint8Array): Promise<Uint8Array>;
}

export interface WebSocketLike {
  readonly readyState: number;
  onmessage: ((event: { data: string }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export interface ClientOptions {
  board?: string;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
  /** A WebSocket class (default: the global one); null to use long-polling only. */
  WebSocket?: (new (url: string) => WebSocketLike) | null;
  signer?: Signer | null;
  /** Bearer token for plain posts that the node signs (API_TOKENS). */
  token?: string | null;
  /** Resume the live feed from this cursor. */
  cursor?: string | null;
  backoff?: { initial?: number; max?: number; factor?: number; jitter?: number };
  /** Seconds a long-poll waits on the node (default 25). */
  pollWait?: number;
  wsFailuresBeforePolling?: number;
  wsRetryWhilePolling?: number;
}

export interface OnusOneEventMap {
  message: CustomEvent<StoredMessage>;
  status: CustomEvent<NodeStatus>;
  connection: CustomEvent<Connection>;
  error: CustomEvent<OnusOneError>;
}

export declare class OnusOneClient extends EventTarget {
  constructor(nodeUrl?: string | URL, options?: ClientOptions);
  readonly nodeUrl: string;
  readonly board: string;
  signer: Signer | null;
  token: string | null;
  /** The live feed's resume point. */
  cursor: string | null;
  lastStatus: NodeStatus | null;
  connection: Connection;
  pollWait: number;
  status(): Promise<NodeStatus>;
  peers(): Promise<Peer[]>;
  messages(options?: { before?: string; limit?: number; board?: string }): Promise<MessagePage>;
  message(cid: string): Promise<StoredMessage>;
  broadcast(content: string, options?: BroadcastOptions): Promise<BroadcastResult>;
  connect(): Promise<this>;
  disconnect(): void;
  reconnect(): Promise<this>;
  setBoard(board: string): void;
  addEventListener<K extends keyof OnusOneEventMap>(type: K, listener: (event: OnusOneEventMap[K]) => void, options?: boolean | AddEventListenerOptions): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  removeEventListener<K extends keyof OnusOneEventMap>(type: K, listener: (event: OnusOneEventMap[K]) => void, options?: boolean | EventListenerOptions): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
}

export declare function seedSigner(seed: Uint8Array | ArrayBuffer | string): Signer;
export declare function browserSigner(options?: { dbName?: string; keyId?: string }): Signer;
export declare function signEnvelope(unsigned: Omit<Envelope, "pubkey" | "sig"> & Partial<Envelope>, signer: Signer): Promise<Envelope>;
export declare function canonicalJson(value: unknown): string;
export declare function canonicalBytes(value: unknown): Uint8Array;
export declare function toHex(bytes: ArrayBuffer | Uint8Array): string;

export declare class OnusOneError extends Error {
  constructor(message: string, fields?: { status?: number | null; error?: string | null; detail?: string | null; retryAfter?: number | null; cause?: unknown });
  /** HTTP status, or null when the node was not reached. */
  readonly status: number | null;
  /** The node's error code (`rate_limited`, `unknown_board`, …). */
  readonly error: string | null;
  /** The node's human sentence. */
  readonly detail: string | null;
  /** Seconds to wait, from Retry-After (a 4429 WebSocket close: from its detail). */
  readonly retryAfter: number | null;
  readonly retryable: boolean;
}
export declare class NetworkError extends OnusOneError {}
export declare class BadRequestError extends OnusOneError {}
export declare class UnauthorizedError extends OnusOneError {}
export declare class UnknownBoardError extends OnusOneError {}
export declare class NotFoundError extends OnusOneError {}
export declare class RateLimitedError extends OnusOneError {}
export declare class StorageFullError extends OnusOneError {}
export declare class NodeUnavailableError extends OnusOneError {}
export declare function errorFor(status: number, body: unknown, retryAfterHeader?: string | null): OnusOneError;
export declare function errorFromResponse(response: Response): Promise<OnusOneError>;
export declare function parseRetryAfter(value: string | null | undefined, now?: number): number | null;
