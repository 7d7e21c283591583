// Bundles our bench pages against a built package (pkg/ by default; env.pkg for the no-SIMD build).
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const here = import.meta.dirname;
const root = path.join(here, '..', '..');

export default (env = {}) => ({
  mode: 'production',
  context: here,
  entry: { ours: './ours.js', cold: './cold-ours.js' },
  output: { path: path.resolve(env.out || path.join(root, 'target', 'bench', 'model', 'site', 'ours')), filename: '[name].js', clean: true, publicPath: env.publicPath || '/ours/' },
  resolve: { alias: { 'unwritten-ai': path.resolve(env.pkg || path.join(root, 'pkg')) } },
  resolveLoader: { modules: [path.join(root, 'node_modules')] },
  performance: { hints: false },
  plugins: [
    new HtmlWebpackPlugin({ filename: 'index.html', chunks: ['ours'], templateContent: '<!doctype html><title>loading</title>' }),
    new HtmlWebpackPlugin({ filename: 'cold.html', chunks: ['cold'], templateContent: '<!doctype html><title>loading</title>' }),
  ],
});
