// The test app as a bundler user builds it: React 19 and the SDK by package name (esbuild).
import * as React from "react";
import { createRoot } from "react-dom/client";

import { browserSigner } from "@onusone/client";
import { useOnusOne } from "@onusone/client/react";

import { mountApp } from "./hook-app.js";

mountApp({ React, createRoot, useOnusOne, signer: browserSigner() });
