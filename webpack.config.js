// The demo page (www/) served by webpack-dev-server. `unwritten-ai` resolves to the wasm-pack build in pkg/,
// exactly as a game that installed the package would import it. The mock cloud's and the model server's URLs come
// from the environment scripts/demo and tests/e2e/run.mjs set (UNWRITTEN_MOCK_URL, UNWRITTEN_MODELS_URL).
import path from 'node:path';
import HtmlWebpackPlugin from 'html-webpack-plugin';
import webpack from 'webpack';

const root = import.meta.dirname;

export default (env = {}, argv = {}) => ({
  mode: argv.mode || 'development',
  entry: path.join(root, 'www', 'index.js'),
  output: { path: path.join(root, 'dist', 'www'), filename: '[name].[contenthash].js', clean: true },
  resolve: { alias: { 'unwritten-ai': path.join(root, 'pkg') } },
  // uPlot's stylesheet is imported as text and put into a <style> by the page (no CSS loader needed).
  module: { rules: [{ test: /\.css$/, type: 'asset/source' }] },
  performance: { hints: false },
  devtool: argv.mode === 'production' ? false : 'source-map',
  plugins: [
    new HtmlWebpackPlugin({ template: path.join(root, 'www', 'index.html') }),
    new webpack.DefinePlugin({
      'process.env.UNWRITTEN_MOCK_URL': JSON.stringify(process.env.UNWRITTEN_MOCK_URL || 'http://127.0.0.1:8787'),
      'process.env.UNWRITTEN_MODELS_URL': JSON.stringify(process.env.UNWRITTEN_MODELS_URL || 'http://127.0.0.1:8788/'),
    }),
  ],
  devServer: {
    host: '127.0.0.1',
    port: Number(env.port || process.env.DEMO_PORT || 8080),
    hot: false,
    liveReload: false,
    client: { overlay: false, logging: 'warn' },
    open: false,
  },
});
