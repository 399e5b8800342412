// useOnusOne: the prototype's useP2PConnection hook, same field names, on OnusOneClient.
// React is an optional peer dependency: only this entry point imports it (a page without a
// bundler uses ./react-factory.js and passes its React instead).
import * as React from "react";

import { createUseOnusOne } from "./react-factory.js";

export const useOnusOne = createUseOnusOne(React);
export { createUseOnusOne };
