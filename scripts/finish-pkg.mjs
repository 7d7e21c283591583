// Completes wasm-pack's pkg/: adds the package entry (wasm/js/index.js, index.d.ts) that gives the documented
// `import init, { UnwrittenAI } from 'unwritten-ai'`, and the README.
import fs from 'node:fs';
import path from 'node:path';

// The package directory: pkg/, or pkg-onnx-full/ for `scripts/build-pkg --features onnx-full`.
const pkgDir = path.resolve(import.meta.dirname, '..', process.argv[2] || 'pkg');
const manifestPath = path.join(pkgDir, 'package.json');
const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));

// The model ships in the package; bundlers emit the files and hand index.js their URLs.
const modelsDir = path.resolve(import.meta.dirname, '..', 'models');
const modelManifest = JSON.parse(fs.readFileSync(path.join(modelsDir, 'manifest.json'), 'utf8'));
const modelFiles = ['manifest.json', modelManifest.file, modelManifest.vocab.file, modelManifest.responseBank.file];
fs.mkdirSync(path.join(pkgDir, 'model'), { recursive: true });
for (const f of modelFiles) fs.copyFileSync(path.join(modelsDir, f), path.join(pkgDir, 'model', f));

// The package entry (wasm/js/): loads the module, guards every call against a trap, points at the bundled model.
const entryDir = path.resolve(import.meta.dirname, '..', 'wasm', 'js');
const entry = fs
  .readFileSync(path.join(entryDir, 'index.js'), 'utf8')
  .replace('__MODEL_FILE__', modelManifest.file)
  .replace('__VOCAB_FILE__', modelManifest.vocab.file)
  .replace('__BANK_FILE__', modelManifest.responseBank.file);
if (/__[A-Z]+_FILE__/.test(entry)) throw new Error('wasm/js/index.js: a model file placeholder was not filled in');
fs.writeFileSync(path.join(pkgDir, 'index.js'), entry);
fs.copyFileSync(path.join(entryDir, 'index.d.ts'), path.join(pkgDir, 'index.d.ts'));
// The worker (worker.js), which compile.js starts with `new Worker(new URL('./worker.js', import.meta.url))` so
// bundlers emit it with no configuration, the main thread's proxy of `worker: true`, and the modules they import.
const JS_FILES = [
  'proxy.js', 'compile.js', 'streaming.js', 'front_copy.js', 'host.js', 'watch.js', 'unsendable.js', 'worker.js',
];
for (const f of JS_FILES) fs.copyFileSync(path.join(entryDir, f), path.join(pkgDir, f));

manifest.main = 'index.js';
manifest.module = 'index.js';
manifest.types = 'index.d.ts';
manifest.files = [...new Set([...(manifest.files || []), 'index.js', 'index.d.ts', ...JS_FILES, 'model/'])];
manifest.sideEffects = ['./index.js', './worker.js', './unwritten_ai.js', './snippets/*'];
fs.writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
fs.copyFileSync(path.resolve(import.meta.dirname, '..', 'README.md'), path.join(pkgDir, 'README.md'));
console.log(`${path.basename(pkgDir)}/ ready: ${manifest.name}@${manifest.version}`);
