// The package's types: every type of the module's API, and its one class (wrapped by index.js, same shape).
export type * from './unwritten_ai';
export { UnwrittenAI } from './unwritten_ai';
/** Loads the WebAssembly module (already under way once the package is imported); resolves to the exports. */
export default function init(): Promise<typeof import('./index')>;
/** For the package's own crash tests (tests/consumer/src/crash.ts): traps the WebAssembly instance on purpose. */
export function __forceTrap(kind: 'sync' | 'async' | 'silent', ai?: import('./unwritten_ai').UnwrittenAI): Promise<never>;
/** For the package's benchmark (bench/frame): one message to the runtime's worker and back (worker: true). */
export function __roundTrip(ai: import('./unwritten_ai').UnwrittenAI): Promise<void> | undefined;
