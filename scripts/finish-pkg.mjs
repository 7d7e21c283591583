// Completes wasm-pack's pkg/: adds the package entry (index.js / index.d.ts) that gives the documented
// `import init, { UnwrittenAI } from 'unwritten-ai'`, and the README.
import fs from 'node:fs';
import path from 'node:path';

const pkgDir = path.resolve(import.meta.dirname, '..', 'pkg');
const manifestPath = path.join(pkgDir, 'package.json');
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));

// The model ships in the package; bundlers emit the files and hand index.js their URLs.
const modelsDir = path.resolve(import.meta.dirname, '..', 'models');
const modelManifest = JSON.parse(fs.readFileSync(path.join(modelsDir, 'manifest.json'), 'utf8'));
const modelFiles = ['manifest.json', modelManifest.file, modelManifest.vocab.file, modelManifest.responseBank.file];
fs.mkdirSync(path.join(pkgDir, 'model'), { recursive: true });
for (const f of modelFiles) fs.copyFileSync(path.join(modelsDir, f), path.join(pkgDir, 'model', f));

fs.writeFileSync(
  path.join(pkgDir, 'index.js'),
  `export * from './unwritten_ai.js';
import * as exports from './unwritten_ai.js';
import { setDefaultModelAssets } from './unwritten_ai.js';

// The bundled model: the bundler emits these files and turns each URL into the address it serves them at.
setDefaultModelAssets(
  new URL('./model/manifest.json', import.meta.url).href,
  new URL('./model/${modelManifest.file}', import.meta.url).href,
  new URL('./model/${modelManifest.vocab.file}', import.meta.url).href,
  new URL('./model/${modelManifest.responseBank.file}', import.meta.url).href,
);

/**
 * With a bundler (webpack 5 asyncWebAssembly, Vite with a wasm plugin) the WebAssembly module is compiled and
 * instantiated when this package is imported, before any of your code runs. init() resolves to the module's
 * exports so code written as \`await init()\` works the same with every wasm-pack target.
 */
export default async function init() {
  return exports;
}
`,
);
fs.writeFileSync(
  path.join(pkgDir, 'index.d.ts'),
  `export * from './unwritten_ai';
/** Resolves once the WebAssembly module is ready (with a bundler it already is), to the module's exports. */
export default function init(): Promise<typeof import('./unwritten_ai')>;
`,
);

manifest.main = 'index.js';
manifest.module = 'index.js';
manifest.types = 'index.d.ts';
manifest.files = [...new Set([...(manifest.files || []), 'index.js', 'index.d.ts', 'model/'])];
manifest.sideEffects = ['./index.js', './unwritten_ai.js', './snippets/*'];
fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
fs.copyFileSync(path.resolve(import.meta.dirname, '..', 'README.md'), path.join(pkgDir, 'README.md'));
console.log(`pkg/ ready: ${manifest.name}@${manifest.version}`);
