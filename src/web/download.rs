use std::future::Future;

use futures_util::future::{select, Either};
use gloo_timers::future::TimeoutFuture;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit};

use super::{call0, describe, get, global_get};
use crate::ports::{
    Download, DownloadError, DownloadFailure, DownloadLimits, DownloadRequest, Downloader, HttpError, LocalFuture,
    Progress,
};

/// Streams a GET through `fetch` + `ReadableStream` reader, reporting progress per chunk. It keeps the limits
/// while it streams: no byte for `stall_ms` (the headers included) or a body past `max_bytes` aborts the fetch
/// (`AbortController`), as does dropping the future; nothing past `max_bytes` is ever buffered. A resumed
/// download sends `Range: bytes=N-` and takes a 206 as the rest of the file, or a 200 as the whole of it; a
/// failure hands back the bytes received, so the next attempt can start where this one broke.
#[derive(Default)]
pub struct FetchDownloader;

/// Aborts the fetch when dropped, unless disarmed once the body is read.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

fn net(e: &JsValue) -> HttpError {
    HttpError::Network(describe(e))
}

async fn await_js(p: JsValue) -> Result<JsValue, HttpError> {
    let promise: js_sys::Promise = p.dyn_into().map_err(|e| net(&e))?;
    JsFuture::from(promise).await.map_err(|e| net(&e))
}

/// `step`, unless nothing comes of it for `stall_ms`: then a timeout (the caller's guard aborts the fetch).
async fn within<T>(stall_ms: u32, step: impl Future<Output = Result<T, HttpError>>) -> Result<T, DownloadError> {
    match select(std::pin::pin!(step), TimeoutFuture::new(stall_ms)).await {
        Either::Left((result, _)) => Ok(result?),
        Either::Right(_) => Err(HttpError::Timeout { after_ms: stall_ms }.into()),
    }
}

/// The request's headers: `Range` to resume, `If-None-Match` to revalidate. Neither is set on a plain GET: a
/// header that is not CORS-safelisted makes a cross-origin request need a preflight the server may not answer.
fn request_headers(request: &DownloadRequest) -> Result<Option<Headers>, HttpError> {
    if request.offset == 0 && request.if_none_match.is_none() {
        return Ok(None);
    }
    let headers = Headers::new().map_err(|e| net(&e))?;
    if request.offset > 0 {
        headers.append("range", &format!("bytes={}-", request.offset)).map_err(|e| net(&e))?;
    }
    if let Some(etag) = &request.if_none_match {
        headers.append("if-none-match", etag).map_err(|e| net(&e))?;
    }
    Ok(Some(headers))
}

/// Where a 206's body starts, from `Content-Range: bytes START-END/TOTAL`; `None` when the header is absent or
/// not exposed (across origins it needs `Access-Control-Expose-Headers`): the range asked for is then assumed,
/// and the SHA-256 of the whole file catches a server that sent another.
fn range_start(resp: &web_sys::Response) -> Option<u64> {
    let value = resp.headers().get("content-range").ok().flatten()?;
    value.trim().strip_prefix("bytes ")?.split('-').next()?.trim().parse().ok()
}

async fn fetch(
    url: &str,
    request: DownloadRequest,
    limits: DownloadLimits,
    progress: Progress<'_>,
) -> Result<Download, DownloadFailure> {
    let fetch_fn: js_sys::Function = global_get("fetch")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| HttpError::Network("fetch is not available".into()))?;
    let controller = AbortController::new().map_err(|e| net(&e))?;
    let mut guard = AbortOnDrop(Some(controller.clone()));
    let init = RequestInit::new();
    init.set_signal(Some(&controller.signal()));
    if let Some(headers) = request_headers(&request)? {
        init.set_headers(&headers);
    }
    let pending = fetch_fn.call2(&js_sys::global(), &JsValue::from_str(url), &init).map_err(|e| net(&e))?;
    let resp = within(limits.stall_ms, await_js(pending)).await?;
    let resp: web_sys::Response = resp.dyn_into().map_err(|e| net(&e))?;
    let etag = resp.headers().get("etag").ok().flatten();
    if resp.status() == 304 && request.if_none_match.is_some() {
        guard.0 = None;
        return Ok(Download { not_modified: true, etag, ..Download::default() });
    }
    let from = match resp.status() {
        200 => 0,
        206 if request.offset > 0 => match range_start(&resp) {
            Some(start) if start != request.offset => {
                let got = format!("GET {url} answered bytes from {start}, not from {}", request.offset);
                return Err(HttpError::Network(got).into());
            }
            _ => request.offset,
        },
        status => return Err(HttpError::Network(format!("GET {url} answered HTTP {status}")).into()),
    };
    let mut body = Vec::new();
    match read_body(&resp, from, limits, progress, &mut body).await {
        Ok(()) => {
            guard.0 = None;
            Ok(Download { body, from, not_modified: false, etag })
        }
        Err(error) => Err(DownloadFailure { error, received: body, from }),
    }
}

/// Reads the body into `bytes`, which keeps what arrived when the read fails part-way.
async fn read_body(
    resp: &web_sys::Response,
    from: u64,
    limits: DownloadLimits,
    progress: Progress<'_>,
    bytes: &mut Vec<u8>,
) -> Result<(), DownloadError> {
    // Content-Length is only a hint: it counts the encoded bytes (gzip), the limit counts the body.
    let total = resp.headers().get("content-length").ok().flatten().and_then(|v| v.parse::<u64>().ok());
    let room = limits.max_bytes.saturating_sub(from);
    let too_large = || DownloadError::TooLarge { limit: limits.max_bytes };
    bytes.reserve(total.unwrap_or(0).min(room) as usize);
    progress(0, total);
    let Some(reader) = get(resp, "body").and_then(|b| call0(&b, "getReader")) else {
        // No streams (very old browsers): one buffer, so one stall timer for all of it, and one progress event.
        let buf = within(limits.stall_ms, await_js(resp.array_buffer().map_err(|e| net(&e))?.into())).await?;
        let buf = js_sys::Uint8Array::new(&buf);
        if u64::from(buf.length()) > room {
            return Err(too_large());
        }
        *bytes = buf.to_vec();
        progress(bytes.len() as u64, total);
        return Ok(());
    };
    loop {
        let read = call0(&reader, "read").ok_or_else(|| HttpError::Network("reader.read failed".into()))?;
        let chunk = within(limits.stall_ms, await_js(read)).await?;
        if get(&chunk, "done").and_then(|d| d.as_bool()).unwrap_or(true) {
            return Ok(());
        }
        if let Some(value) = get(&chunk, "value").and_then(|v| v.dyn_into::<js_sys::Uint8Array>().ok()) {
            let at = bytes.len();
            if (at as u64).saturating_add(u64::from(value.length())) > room {
                return Err(too_large());
            }
            bytes.resize(at + value.length() as usize, 0);
            if let Some(tail) = bytes.get_mut(at..) {
                value.copy_to(tail);
            }
            progress(bytes.len() as u64, total);
        }
    }
}

impl Downloader for FetchDownloader {
    fn fetch<'a>(
        &'a self,
        url: &'a str,
        request: DownloadRequest,
        limits: DownloadLimits,
        progress: Progress<'a>,
    ) -> LocalFuture<'a, Result<Download, DownloadFailure>> {
        Box::pin(fetch(url, request, limits, progress))
    }
}
