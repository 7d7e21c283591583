use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::{call0, describe, get, global_get};
use crate::ports::{Downloader, HttpError, LocalFuture, Progress};

/// Streams a GET through `fetch` + `ReadableStream` reader, reporting progress per chunk.
#[derive(Default)]
pub struct FetchDownloader;

fn net(e: &JsValue) -> HttpError {
    HttpError::Network(describe(e))
}

async fn await_js(p: JsValue) -> Result<JsValue, HttpError> {
    let promise: js_sys::Promise = p.dyn_into().map_err(|e| net(&e))?;
    JsFuture::from(promise).await.map_err(|e| net(&e))
}

async fn download(url: &str, progress: Progress<'_>) -> Result<Vec<u8>, HttpError> {
    let fetch_fn: js_sys::Function = global_get("fetch")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| HttpError::Network("fetch is not available".into()))?;
    let resp = await_js(fetch_fn.call1(&js_sys::global(), &JsValue::from_str(url)).map_err(|e| net(&e))?).await?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|e| net(&e))?;
    if !resp.ok() {
        return Err(HttpError::Network(format!("GET {url} answered HTTP {}", resp.status())));
    }
    let total = resp.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
    let mut bytes = Vec::with_capacity(total.unwrap_or(0).min(64 << 20) as usize);
    progress(0, total);
    let Some(reader) = get(&resp, "body").and_then(|b| call0(&b, "getReader")) else {
        // No streams (very old browsers): one buffer, one progress event.
        let buf = await_js(resp.array_buffer().map_err(|e| net(&e))?.into()).await?;
        bytes = js_sys::Uint8Array::new(&buf).to_vec();
        progress(bytes.len() as u64, total);
        return Ok(bytes);
    };
    loop {
        let chunk =
            await_js(call0(&reader, "read").ok_or_else(|| HttpError::Network("reader.read failed".into()))?).await?;
        if get(&chunk, "done").and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        if let Some(value) = get(&chunk, "value").and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()) {
            let at = bytes.len();
            bytes.resize(at + value.length() as usize, 0);
            value.copy_to(&mut bytes[at..]);
            progress(bytes.len() as u64, total);
        }
    }
    Ok(bytes)
}

impl Downloader for FetchDownloader {
    fn download<'a>(&'a self, url: &'a str, progress: Progress<'a>) -> LocalFuture<'a, Result<Vec<u8>, HttpError>> {
        Box::pin(download(url, progress))
    }
}
