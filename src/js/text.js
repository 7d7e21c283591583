// Strings from JS into wasm memory through the browser's own UTF-8 encoder. wasm-bindgen's glue copies a string
// with a JS loop over its characters (~50 us for a 20 KB line in Chromium); TextEncoder.encodeInto is native code.
// Called from src/js/text.rs.
const encoder = new TextEncoder();

// Writes `text` as UTF-8 into `view` (wasm memory, valid only during this call). Returns the bytes written, or -1
// if `view` was too small to take all of it.
export function encodeUtf8Into(text, view) {
  const r = encoder.encodeInto(text, view);
  return r.read === text.length ? r.written : -1;
}
