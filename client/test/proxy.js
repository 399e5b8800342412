// A loopback HTTP proxy in front of a node that refuses every WebSocket upgrade, as an API
// Gateway HTTP API or a strict corporate proxy does: what the polling fallback exists for.
import http from "node:http";

export async function refusingWebSocketProxy(target) {
  const upstream = new URL(target);
  const proxy = { refusedUpgrades: 0 };
  const server = http.createServer((request, response) => {
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, path: request.url, method: request.method, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on("error", () => response.destroy());
    response.on("close", () => forwarded.destroy());
    request.pipe(forwarded);
  });
  server.on("upgrade", (request, socket) => {
    proxy.refusedUpgrades += 1;
    socket.end("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  proxy.url = `http://127.0.0.1:${server.address().port}`;
  proxy.close = () => {
    server.closeAllConnections();
    return new Promise((resolve) => server.close(resolve));
  };
  return proxy;
}
