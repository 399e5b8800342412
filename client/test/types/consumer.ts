// A TypeScript front end using every entry point: `tsc --noEmit` on it checks the shipped
// declarations (test/unit/package.test.js).
import { OnusOneClient, RateLimitedError, browserSigner, seedSigner, type NodeStatus } from "@onusone/client";
import { useOnusOne } from "@onusone/client/react";
import { createUseOnusOne } from "@onusone/client/react-factory";
import { OnusOneStatus } from "@onusone/client/widget";

const client = new OnusOneClient("https://node.example", { board: "general", signer: browserSigner(), WebSocket: null });
client.addEventListener("message", (event) => console.log(event.detail.envelope.content.toUpperCase()));
client.addEventListener("connection", (event) => console.log(event.detail.state, event.detail.retryAt));
const status: Promise<NodeStatus> = client.status();
status.then((s) => Object.entries(s.catchUp ?? {}).map(([board, p]) => `${board} ${p.pagesPending}`));
client.broadcast("hi", { author: "ada", parent: "bafk" }).then((answer) => answer.cid.length);
client.broadcast("hi").catch((error: unknown) => error instanceof RateLimitedError && error.retryAfter);
seedSigner(new Uint8Array(32)).publicKey().then((hex: string) => hex.length);

const widget: OnusOneStatus = document.createElement("onusone-status");
widget.client = client;

export function usePort(): number {
  const { isConnected, peerCount, broadcastMessage, connectionError } = useOnusOne({ node: "https://node.example", autoConnect: true, userId: "ada" });
  void broadcastMessage({ id: "1", content: "x", author: "ada", board: "general" });
  return isConnected && !connectionError ? peerCount : 0;
}

// React 18's UMD build as a page's global (no @types/react needed).
declare const UmdReact: { [hook in "useState" | "useEffect" | "useRef" | "useCallback" | "createElement"]: (...args: any[]) => any };
export const useBoard = createUseOnusOne(UmdReact);
export function useNoBundlerPort(): boolean {
  return useBoard({ node: "https://node.example", board: "general" }).isConnected;
}
