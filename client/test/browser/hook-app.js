// A small React front end written against the prototype's hook fields, for the Chromium tests
// (tests/http/test_client_browser.py). It imports nothing: React, createRoot and the hook are
// passed in, so the same app runs bundled (hook-bundled.js: React 19 from npm through esbuild)
// and on pages without a build step (React 18's UMD build, the SDK from the node's /client/).
export function mountApp({ React, createRoot, useOnusOne, signer }) {
  const { StrictMode, createElement: h, useState } = React;
  const node = new URLSearchParams(location.search).get("node");

  function App() {
    const p2p = useOnusOne({ node, board: "general", autoConnect: true, userId: "hook-user", signer });
    const {
      isConnected, isConnecting, connectionError, networkStatus, peers, peerCount,
      connect, disconnect, broadcastMessage, messages,
    } = p2p;
    const [text, setText] = useState("");
    const [result, setResult] = useState("");
    const send = async (board) => {
      const answer = await broadcastMessage({ content: text, board });
      setResult(answer ? answer.cid : "failed");
    };
    return h("main", { id: "app", "data-connected": String(isConnected), "data-connecting": String(isConnecting) },
      h("p", { id: "react-version" }, React.version),
      h("p", { id: "fields" }, Object.keys(p2p).sort().join(" ")),
      h("p", { id: "node-id" }, networkStatus?.nodeId ?? ""),
      h("p", { id: "health" }, networkStatus?.networkHealth ?? ""),
      h("p", { id: "peer-count" }, String(peerCount)),
      h("p", { id: "peers" }, peers.map((peer) => `${peer.id}:${peer.reputation}`).join(" ")),
      h("p", { id: "error" }, connectionError ? `${connectionError.name} ${connectionError.error ?? ""}` : ""),
      h("label", { htmlFor: "text" }, "Message"),
      h("input", { id: "text", value: text, onChange: (event) => setText(event.target.value) }),
      h("button", { id: "send", onClick: () => send(undefined) }, "Send"),
      h("button", { id: "send-bad", onClick: () => send("Not A Board") }, "Send to a bad board"),
      h("button", { id: "disconnect", onClick: disconnect }, "Disconnect"),
      h("button", { id: "connect", onClick: connect }, "Connect"),
      h("p", { id: "result" }, result),
      h("ol", { id: "messages" }, messages.map((m) => h("li", { key: m.cid, "data-cid": m.cid }, `${m.envelope.author}: ${m.envelope.content}`))),
    );
  }

  createRoot(document.getElementById("root")).render(h(StrictMode, null, h(App)));
}
