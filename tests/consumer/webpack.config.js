// Builds tests/consumer as a game would: `unwritten-ai` comes from node_modules (the packed tarball).
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const here = import.meta.dirname;

export default {
  mode: 'production',
  context: here,
  // index.html: the game; crash.html: a trap forced on purpose (src/crash.ts); worker.html: the game with
  // `worker: true` (src/worker.ts), whose worker script webpack emits from the package's new Worker(new URL(...));
  // modes.html: the public-API suite, run in either mode (src/modes.ts, tests/e2e/modes.mjs).
  entry: { game: './src/index.ts', crash: './src/crash.ts', worker: './src/worker.ts', modes: './src/modes.ts' },
  output: { path: path.join(here, 'dist'), filename: '[name].[contenthash].js', clean: true },
  resolve: { extensions: ['.ts', '.js'], modules: [path.join(here, 'node_modules'), 'node_modules'] },
  resolveLoader: { modules: [path.join(here, '..', '..', 'node_modules')] },
  module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { configFile: path.join(here, 'tsconfig.json'), transpileOnly: true, compilerOptions: { noEmit: false } } }] },
  performance: { hints: false },
  plugins: ['game', 'crash', 'worker', 'modes'].map((name) => new HtmlWebpackPlugin({
    filename: name === 'game' ? 'index.html' : `${name}.html`,
    chunks: [name],
    templateContent: '<!doctype html><html><body><pre id="out" data-state="loading"></pre></body></html>',
  })),
};
