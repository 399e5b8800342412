// createUseOnusOne: the prototype's useP2PConnection hook, same field names, on OnusOneClient,
// for the React it is given. It imports nothing from React, so a page without a bundler can
// pass the React it loaded (React 18's UMD build); ./react.js binds it to the "react" package.
import { OnusOneClient } from "./client.js";

const MAX_MESSAGES = 200;

/**
 * `useOnusOne` on the React given: `createUseOnusOne(React)` (anything with React's
 * `useState`, `useEffect`, `useRef` and `useCallback`, such as the `window.React` of React 18's
 * UMD build). Pass the React that renders the components using it.
 */
export function createUseOnusOne({ useCallback, useEffect, useRef, useState }) {
  /**
   * Connection state, node status, peers and the board's live messages of one node.
   * Options: `node` (URL), `board`, `autoConnect` (default true), `userId` (default author of
   * broadcastMessage), `signer`, `token`, `refreshInterval` (ms, default 30000), `client`
   * (an existing OnusOneClient to share), and any OnusOneClient option.
   */
  return function useOnusOne(options = {}) {
    const { node, board = "general", autoConnect = true, userId, client: shared, refreshInterval = 30000 } = options;
    const latest = useRef(options);
    latest.current = options;
    const [client, setClient] = useState(null);
    const [connection, setConnection] = useState({ state: "disconnected", transport: null, attempt: 0, retryAt: null, error: null });
    const [connectionError, setConnectionError] = useState(null);
    const [networkStatus, setNetworkStatus] = useState(null);
    const [peers, setPeers] = useState([]);
    const [messages, setMessages] = useState([]);
    // A connect() cut short by disconnect() (or by unmounting) is not an error to show.
    const failed = (error) => error?.error !== "disconnected" && setConnectionError(error);

    useEffect(() => {
      const { signer, token, fetch, WebSocket, backoff, pollWait } = latest.current;
      const extra = { signer, token, fetch, backoff, pollWait };
      if ("WebSocket" in latest.current) extra.WebSocket = WebSocket;
      const made = shared ?? new OnusOneClient(node, { board, ...extra });
      const listeners = new AbortController();
      const on = (type, handler) => made.addEventListener(type, handler, { signal: listeners.signal });
      on("connection", (event) => {
        setConnection(event.detail);
        if (event.detail.error) setConnectionError(event.detail.error);
        else if (event.detail.state === "connected") setConnectionError(null);
      });
      on("status", (event) => setNetworkStatus(event.detail));
      on("message", (event) => setMessages((list) => [event.detail, ...list].slice(0, MAX_MESSAGES)));
      setClient(made);
      setConnection({ ...made.connection });
      setNetworkStatus(made.lastStatus);
      setMessages([]);
      let active = true;
      if (autoConnect) made.connect().catch((error) => active && failed(error));
      return () => {
        active = false;
        listeners.abort();
        if (!shared) made.disconnect();
      };
    }, [node, board, shared, autoConnect]);

    const refreshNetworkInfo = useCallback(async () => {
      if (!client) return;
      try {
        const [status, list] = await Promise.all([client.status(), client.peers()]);
        setNetworkStatus(status);
        setPeers(list);
      } catch (error) {
        setConnectionError(error);
      }
    }, [client]);

    const isConnected = connection.state === "connected";
    useEffect(() => {
      if (!isConnected) return undefined;
      refreshNetworkInfo();
      const timer = setInterval(refreshNetworkInfo, refreshInterval);
      return () => clearInterval(timer);
    }, [isConnected, refreshNetworkInfo, refreshInterval]);

    const connect = useCallback(async () => {
      if (!client) return;
      setConnectionError(null);
      try {
        await client.connect();
      } catch (error) {
        failed(error);
      }
    }, [client]);

    const disconnect = useCallback(() => client?.disconnect(), [client]);

    // The prototype's shape: {id, content, author, board, parent}; resolves to the node's answer
    // (truthy) or to false, with the typed error in connectionError.
    const broadcastMessage = useCallback(
      async (message) => {
        if (!client) return false;
        try {
          return await client.broadcast(message.content, {
            author: message.author ?? latest.current.userId ?? "anonymous",
            id: message.id,
            parent: message.parent,
            board: message.board,
          });
        } catch (error) {
          setConnectionError(error);
          return false;
        }
      },
      [client],
    );

    return {
      isConnected,
      isConnecting: connection.state === "connecting" || connection.state === "reconnecting",
      connectionError,
      networkStatus,
      peers,
      peerCount: networkStatus?.connectedPeers ?? peers.filter((peer) => peer.connected).length,
      connect,
      disconnect,
      broadcastMessage,
      refreshNetworkInfo,
      messages,
      connection,
      client,
      userId,
    };
  };
}
