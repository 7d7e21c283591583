// Builds tests/consumer as a game would: `unwritten-ai` comes from node_modules (the packed tarball).
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const here = import.meta.dirname;

export default {
  mode: 'production',
  context: here,
  entry: './src/index.ts',
  output: { path: path.join(here, 'dist'), filename: 'game.[contenthash].js', clean: true },
  resolve: { extensions: ['.ts', '.js'], modules: [path.join(here, 'node_modules'), 'node_modules'] },
  resolveLoader: { modules: [path.join(here, '..', '..', 'node_modules')] },
  module: { rules: [{ test: /\.ts$/, loader: 'ts-loader', options: { configFile: path.join(here, 'tsconfig.json'), transpileOnly: true, compilerOptions: { noEmit: false } } }] },
  experiments: { asyncWebAssembly: true },
  performance: { hints: false },
  plugins: [new HtmlWebpackPlugin({ templateContent: '<!doctype html><html><body><pre id="out" data-state="loading"></pre></body></html>' })],
};
