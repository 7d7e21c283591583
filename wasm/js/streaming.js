// Fetches and compiles the module, on whichever thread calls it (compile.js: a worker where one starts).
export async function compileFrom(url) {
  const response = fetch(url);
  try {
    return await WebAssembly.compileStreaming(response);
  } catch (e) {
    // A server that does not say application/wasm: compile the bytes instead.
    if (!(e instanceof TypeError)) throw e;
    return WebAssembly.compile(await (await response).arrayBuffer());
  }
}
