// What a page without a bundler maps "react" to in its import map: React 18's UMD build (loaded
// by a classic <script> before it) re-exported as an ES module, for @onusone/client/react.
const React = globalThis.React;
export default React;
export const { StrictMode, createElement, useCallback, useEffect, useRef, useState, version } = React;
