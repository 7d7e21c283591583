// Bundles our frame-budget page against the built package (pkg/), as a game's webpack 5 build would.
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';
import { HEAD } from './head.mjs';

const here = import.meta.dirname;
const root = path.join(here, '..', '..');

export default (env = {}) => ({
  mode: 'production',
  context: here,
  entry: { ours: './ours.js', idle: './idle.js', replay: './replay.js' },
  output: { path: path.resolve(env.out || path.join(root, 'target', 'bench', 'frame', 'site', 'ours')), filename: '[name].js', clean: true, publicPath: '/ours/' },
  resolve: { alias: { 'unwritten-ai': path.resolve(env.pkg || path.join(root, 'pkg')) } },
  resolveLoader: { modules: [path.join(root, 'node_modules')] },
  performance: { hints: false },
  plugins: [
    new HtmlWebpackPlugin({ filename: 'index.html', chunks: ['ours'], scriptLoading: 'module', templateContent: HEAD }),
    new HtmlWebpackPlugin({ filename: 'idle.html', chunks: ['idle'], scriptLoading: 'module', templateContent: HEAD }),
    new HtmlWebpackPlugin({ filename: 'replay.html', chunks: ['replay'], scriptLoading: 'module', templateContent: HEAD }),
  ],
});
