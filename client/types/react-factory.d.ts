import type { UseOnusOneOptions, UseOnusOneResult } from "./react.js";

/** The hooks useOnusOne uses: any React >= 18 (the package, or React 18's UMD `window.React`). */
export interface ReactHooks {
  useState: (...args: any[]) => any;
  useEffect: (...args: any[]) => any;
  useRef: (...args: any[]) => any;
  useCallback: (...args: any[]) => any;
}

/** useOnusOne bound to the React given, for pages that load React without a bundler. */
export declare function createUseOnusOne(react: ReactHooks): (options?: UseOnusOneOptions) => UseOnusOneResult;
