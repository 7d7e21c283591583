use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use crate::ports::{KvStore, LocalFuture, StoreError};
use crate::testkit::MemoryStore;

/// Lets every other ready future run once before this one continues (wakes itself, so any executor polls again).
pub fn yield_now() -> impl Future<Output = ()> {
    struct YieldNow(bool);
    impl Future for YieldNow {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if std::mem::replace(&mut self.0, true) {
                Poll::Ready(())
            } else {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
        }
    }
    YieldNow(false)
}

/// A [`MemoryStore`] whose every operation first yields, as a real asynchronous store (IndexedDB) lets other
/// tasks, and other tabs, run between a read and the write that follows it.
pub struct YieldingStore(pub Rc<MemoryStore>);

impl KvStore for YieldingStore {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn get<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move {
            yield_now().await;
            self.0.get(key).await
        })
    }

    fn put<'a>(&'a self, key: &'a str, value: &'a [u8]) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            yield_now().await;
            self.0.put(key, value).await
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> LocalFuture<'a, Result<(), StoreError>> {
        Box::pin(async move {
            yield_now().await;
            self.0.delete(key).await
        })
    }

    fn keys<'a>(&'a self, prefix: &'a str) -> LocalFuture<'a, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            yield_now().await;
            self.0.keys(prefix).await
        })
    }
}
