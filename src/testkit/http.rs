use std::cell::RefCell;
use std::collections::VecDeque;

use crate::ports::{Http, HttpError, HttpRequest, HttpResponse, LocalFuture};

/// An [`Http`] that answers from a script, in order, and records every request it was sent.
#[derive(Debug, Default)]
pub struct ScriptedHttp {
    script: RefCell<VecDeque<Result<HttpResponse, HttpError>>>,
    sent: RefCell<Vec<HttpRequest>>,
}

impl ScriptedHttp {
    pub fn new() -> Self {
        ScriptedHttp::default()
    }

    /// Queues a response with this status and body.
    pub fn respond(&self, status: u16, body: &str) -> &Self {
        self.script.borrow_mut().push_back(Ok(HttpResponse { status, headers: Vec::new(), body: body.to_string() }));
        self
    }

    /// Queues a full response (with headers, e.g. Retry-After).
    pub fn respond_with(&self, response: HttpResponse) -> &Self {
        self.script.borrow_mut().push_back(Ok(response));
        self
    }

    /// Queues a transport failure.
    pub fn fail(&self, error: HttpError) -> &Self {
        self.script.borrow_mut().push_back(Err(error));
        self
    }

    pub fn sent(&self) -> Vec<HttpRequest> {
        self.sent.borrow().clone()
    }

    pub fn remaining(&self) -> usize {
        self.script.borrow().len()
    }
}

impl Http for ScriptedHttp {
    fn request(&self, req: HttpRequest) -> LocalFuture<'_, Result<HttpResponse, HttpError>> {
        let url = req.url.clone();
        self.sent.borrow_mut().push(req);
        let next = self.script.borrow_mut().pop_front();
        Box::pin(async move {
            // An unscripted request is a network failure, so a test that forgot a response sees a fallback path,
            // not a hang.
            next.unwrap_or_else(|| Err(HttpError::Network(format!("ScriptedHttp: no response scripted for {url}"))))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pollster::block_on;

    #[test]
    fn answers_in_order_records_requests_and_fails_when_empty() {
        let http = ScriptedHttp::new();
        http.respond(200, "one").fail(HttpError::Timeout { after_ms: 10 });
        let first = block_on(http.request(HttpRequest::get("http://a/1", 100)));
        assert_eq!(first.map(|r| r.body), Ok("one".to_string()));
        let second = block_on(http.request(HttpRequest::post_json("http://a/2", "{}", 100)));
        assert_eq!(second, Err(HttpError::Timeout { after_ms: 10 }));
        let third = block_on(http.request(HttpRequest::get("http://a/3", 100)));
        assert!(matches!(third, Err(HttpError::Network(_))));
        let urls: Vec<String> = http.sent().into_iter().map(|r| r.url).collect();
        assert_eq!(urls, ["http://a/1", "http://a/2", "http://a/3"]);
        assert_eq!(http.remaining(), 0);
    }
}
