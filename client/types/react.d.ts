import type { BroadcastResult, ClientOptions, Connection, NodeStatus, OnusOneClient, OnusOneError, Peer, StoredMessage } from "./index.js";

export interface UseOnusOneOptions extends ClientOptions {
  /** The node's URL (default: this page's origin). */
  node?: string;
  board?: string;
  /** Connect on mount (default true). */
  autoConnect?: boolean;
  /** Default author of broadcastMessage (the prototype's userId). */
  userId?: string;
  /** Share an existing client instead of making one. */
  client?: OnusOneClient;
  /** How often status and peers are refreshed while connected, in ms (default 30000). */
  refreshInterval?: number;
}

/** The prototype's message shape for broadcastMessage. */
export interface PrototypeMessage {
  id?: string;
  content: string;
  author?: string;
  board?: string;
  parent?: string;
}

export interface UseOnusOneResult {
  isConnected: boolean;
  isConnecting: boolean;
  connectionError: OnusOneError | Error | null;
  networkStatus: NodeStatus | null;
  peers: Peer[];
  peerCount: number;
  connect(): Promise<void>;
  disconnect(): void;
  /** The node's answer, or false (the error is then in connectionError). */
  broadcastMessage(message: PrototypeMessage): Promise<BroadcastResult | false>;
  refreshNetworkInfo(): Promise<void>;
  /** The board's live messages since mount, newest first (at most 200). */
  messages: StoredMessage[];
  connection: Connection;
  client: OnusOneClient | null;
  userId?: string;
}

export declare function useOnusOne(options?: UseOnusOneOptions): UseOnusOneResult;
export { createUseOnusOne } from "./react-factory.js";
