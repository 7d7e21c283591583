use futures_util::future::{select, Either};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, RequestInit, Response};

use super::{call0, get};
use crate::ports::{Http, HttpError, HttpRequest, HttpResponse, LocalFuture, Method};

/// The most a response body may hold. A chat completion is a few KB and a batch of ten some tens of KB: a body
/// past this is not an answer, and reading it to the end would only fill the page's memory.
pub const MAX_RESPONSE_BYTES: usize = 4 << 20;

/// `fetch` with an `AbortController`: the request is aborted when its timeout passes or when the future is
/// dropped (a caller that gives up really cancels the network request).
#[derive(Default)]
pub struct FetchHttp;

/// Aborts the request on drop unless disarmed after the body was read.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

fn network(e: &JsValue) -> HttpError {
    if e.dyn_ref::<web_sys::DomException>().is_some_and(|ex| ex.name() == "AbortError") {
        HttpError::Aborted
    } else {
        HttpError::Network(super::describe(e))
    }
}

fn build_init(req: &HttpRequest, controller: &AbortController) -> Result<RequestInit, HttpError> {
    let init = RequestInit::new();
    init.set_method(match req.method {
        Method::Get => "GET",
        Method::Post => "POST",
    });
    let headers = Headers::new().map_err(|e| network(&e))?;
    for (name, value) in &req.headers {
        // The browser's message quotes the value, an API key perhaps: only the header's name may reach a
        // fallback reason. (The config refuses such keys; this is the last line.)
        headers.append(name, value).map_err(|_| HttpError::Network(format!("the browser refused header {name:?}")))?;
    }
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        init.set_body(&JsValue::from_str(body));
    }
    init.set_signal(Some(&controller.signal()));
    Ok(init)
}

fn response_headers(resp: &Response) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Ok(Some(iter)) = js_sys::try_iter(&resp.headers()) {
        for entry in iter.flatten() {
            let pair: js_sys::Array = entry.unchecked_into();
            if let (Some(n), Some(v)) = (pair.get(0).as_string(), pair.get(1).as_string()) {
                out.push((n.to_ascii_lowercase(), v));
            }
        }
    }
    out
}

async fn fetch(req: HttpRequest, controller: AbortController) -> Result<HttpResponse, HttpError> {
    let init = build_init(&req, &controller)?;
    let fetch_fn: js_sys::Function = super::global_get("fetch")
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| HttpError::Network("fetch is not available".into()))?;
    let promise = fetch_fn.call2(&js_sys::global(), &JsValue::from_str(&req.url), &init).map_err(|e| network(&e))?;
    let promise: js_sys::Promise = promise.dyn_into().map_err(|e| network(&e))?;
    let resp: JsValue = JsFuture::from(promise).await.map_err(|e| network(&e))?;
    let resp: Response = resp.dyn_into().map_err(|e| network(&e))?;
    Ok(HttpResponse { status: resp.status(), headers: response_headers(&resp), body: body_text(&resp).await? })
}

fn too_large() -> HttpError {
    HttpError::Network(format!("the response body is larger than {MAX_RESPONSE_BYTES} bytes"))
}

/// The body as text, read chunk by chunk and given up (the caller aborts the fetch) past `MAX_RESPONSE_BYTES`.
async fn body_text(resp: &Response) -> Result<String, HttpError> {
    let Some(reader) = get(resp, "body").and_then(|b| call0(&b, "getReader")) else {
        // No streams (very old browsers): the whole text, then the check.
        let text = JsFuture::from(resp.text().map_err(|e| network(&e))?).await.map_err(|e| network(&e))?;
        let text = text.as_string().unwrap_or_default();
        return if text.len() > MAX_RESPONSE_BYTES { Err(too_large()) } else { Ok(text) };
    };
    let mut bytes: Vec<u8> = Vec::new();
    loop {
        let read = call0(&reader, "read").ok_or_else(|| HttpError::Network("reader.read failed".into()))?;
        let read: js_sys::Promise = read.dyn_into().map_err(|e| network(&e))?;
        let chunk = JsFuture::from(read).await.map_err(|e| network(&e))?;
        if get(&chunk, "done").and_then(|d| d.as_bool()).unwrap_or(true) {
            break;
        }
        let value: js_sys::Uint8Array = get(&chunk, "value")
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(|| HttpError::Network("a response chunk was not bytes".into()))?;
        let start = bytes.len();
        let len = value.length() as usize;
        if start + len > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        bytes.resize(start + len, 0);
        value.copy_to(&mut bytes[start..]);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

impl Http for FetchHttp {
    fn request(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        Box::pin(async move {
            let controller = AbortController::new().map_err(|e| network(&e))?;
            let mut guard = AbortOnDrop(Some(controller.clone()));
            let timeout_ms = req.timeout_ms;
            let work = Box::pin(fetch(req, controller));
            let timer = Box::pin(super::idle::sleep_ms(timeout_ms));
            match select(work, timer).await {
                Either::Left((result, _)) => {
                    // Only a complete answer keeps its connection; an error (a body past the cap) aborts it.
                    if result.is_ok() {
                        guard.0 = None;
                    }
                    result
                }
                // Dropping the guard aborts the fetch, headers or body, wherever it is.
                Either::Right(_) => Err(HttpError::Timeout { after_ms: timeout_ms }),
            }
        })
    }
}
