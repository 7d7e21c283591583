// Builds the consumer's worker page and modes page with Vite, as a game would: `unwritten-ai` comes from
// node_modules (the packed tarball), and nothing here is about the package; the entry points are all there is.
// The package's worker, .wasm and model files must come out of Vite's defaults (tests/e2e/modes.mjs and
// worker.mjs run the built pages).
import path from 'node:path';
import { defineConfig } from 'vite';

const here = import.meta.dirname;

export default defineConfig({
  root: here,
  logLevel: 'warn',
  build: {
    outDir: path.join(here, 'dist-vite'),
    emptyOutDir: true,
    rollupOptions: { input: { worker: path.join(here, 'worker.html'), modes: path.join(here, 'modes.html') } },
  },
});
