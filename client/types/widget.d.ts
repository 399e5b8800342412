import type { Connection, OnusOneClient } from "./index.js";

/**
 * `<onusone-status node="…" board="…" compact manual refresh="10">`, defined on import.
 * Styling: custom properties --onusone-bg, --onusone-fg, --onusone-muted, --onusone-line,
 * --onusone-accent, --onusone-ok, --onusone-warn, --onusone-bad, --onusone-radius,
 * --onusone-font; parts container, header, dot, state, button, retry, toggle, detail, stats,
 * facts, catchup, peers, peer, reputation. The host's data-state is websocket, polling,
 * connecting, offline or disconnected.
 */
export declare class OnusOneStatus extends HTMLElement {
  static observedAttributes: string[];
  /** The client shown; set one to share it (the widget then never disconnects it itself). */
  client: OnusOneClient | null;
  refresh(): Promise<void>;
}

export declare function stateOf(connection: Connection): "websocket" | "polling" | "connecting" | "offline" | "disconnected";
export declare function duration(seconds: number): string;

declare global {
  interface HTMLElementTagNameMap {
    "onusone-status": OnusOneStatus;
  }
}
