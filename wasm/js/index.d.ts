// The package's types: every type of the module's API, and its one class (wrapped by index.js, same shape).
export type * from './unwritten_ai';
export { UnwrittenAI } from './unwritten_ai';
/** Loads the WebAssembly module (already under way once the package is imported); resolves to the exports. */
export default function init(): Promise<typeof import('./index')>;
/** For the package's own crash tests (tests/consumer/src/crash.ts): traps the WebAssembly instance on purpose. */
export function __forceTrap(kind: 'sync' | 'async'): Promise<never>;
