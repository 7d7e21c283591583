// The demo page (www/) served by webpack-dev-server. `unwritten-ai` resolves to the wasm-pack build in pkg/,
// exactly as a game that installed the package would import it.
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';

const root = import.meta.dirname;

export default (env = {}, argv = {}) => ({
  mode: argv.mode || 'development',
  entry: path.join(root, 'www', 'index.js'),
  output: { path: path.join(root, 'dist', 'www'), filename: '[name].[contenthash].js', clean: true },
  resolve: { alias: { 'unwritten-ai': path.join(root, 'pkg') } },
  performance: { hints: false },
  devtool: argv.mode === 'production' ? false : 'source-map',
  plugins: [new HtmlWebpackPlugin({ template: path.join(root, 'www', 'index.html') })],
  devServer: {
    host: '127.0.0.1',
    port: Number(env.port || process.env.DEMO_PORT || 8080),
    hot: false,
    liveReload: false,
    client: { overlay: false, logging: 'warn' },
    open: false,
  },
});
