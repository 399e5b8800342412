// The package as a front end gets it: what `npm pack` puts in, the exports map, the types.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { test } from "node:test";

const root = new URL("../../", import.meta.url);
const manifest = JSON.parse(readFileSync(new URL("package.json", root)));

test("npm pack ships the sources, the types, the manifest and the README only", () => {
  const [packed] = JSON.parse(execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: root, encoding: "utf8", env: { ...process.env, npm_config_update_notifier: "false", npm_config_audit: "false" } }));
  const files = packed.files.map((file) => file.path).sort();
  assert.deepEqual(files, [
    "README.md",
    "package.json",
    "src/canonical.js",
    "src/client.js",
    "src/errors.js",
    "src/index.js",
    "src/react-factory.js",
    "src/react.js",
    "src/signers.js",
    "src/widget.js",
    "types/index.d.ts",
    "types/react-factory.d.ts",
    "types/react.d.ts",
    "types/widget.d.ts",
  ]);
  assert.equal(packed.name, "@onusone/client");
  assert.equal(packed.version, manifest.version);
  assert.ok(packed.size < 40000, `packed size ${packed.size} bytes`);
});

test("the manifest: ES modules, exports with types, no runtime dependencies, React optional", () => {
  assert.equal(manifest.type, "module");
  assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
  assert.equal(manifest.types, "./types/index.d.ts");
  for (const entry of [".", "./react", "./react-factory", "./widget"]) {
    assert.ok(manifest.exports[entry].types.endsWith(".d.ts"), entry);
    assert.ok(manifest.exports[entry].default.startsWith("./src/"), entry);
  }
  assert.equal(manifest.dependencies, undefined);
  assert.equal(manifest.peerDependenciesMeta.react.optional, true);
});

test("every entry point imports by its package name in Node", async () => {
  const main = await import("@onusone/client");
  assert.equal(typeof main.OnusOneClient, "function");
  assert.equal(typeof main.seedSigner, "function");
  const react = await import("@onusone/client/react");
  assert.equal(typeof react.useOnusOne, "function");
  assert.equal(react.createUseOnusOne, (await import("@onusone/client/react-factory")).createUseOnusOne);
  const widget = await import("@onusone/client/widget");
  assert.equal(typeof widget.OnusOneStatus, "function", "importable where there is no DOM");
  assert.equal(widget.stateOf({ state: "reconnecting" }), "offline");
});

test("the only module that imports anything outside the package is the React entry point", () => {
  for (const file of ["canonical", "client", "errors", "index", "signers", "widget", "react-factory", "react"]) {
    const source = readFileSync(new URL(`src/${file}.js`, root), "utf8");
    const outside = [...source.matchAll(/^import[^"]*"([^"]+)"/gm)].map((m) => m[1]).filter((name) => !name.startsWith("./"));
    assert.deepEqual(outside, file === "react" ? ["react"] : [], file);
  }
});

test("the TypeScript declarations type-check a front end using every entry point", () => {
  execFileSync(new URL("node_modules/.bin/tsc", root).pathname, ["-p", "test/types/tsconfig.json"], { cwd: root, encoding: "utf8" });
});
