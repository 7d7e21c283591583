//! The [`Spawner`] of the browser: background tasks run on wasm-bindgen-futures' microtask executor.
use crate::ports::{LocalFuture, Spawner};

pub struct WebSpawner;

impl Spawner for WebSpawner {
    fn spawn(&self, _name: &'static str, task: LocalFuture<'static, ()>) {
        wasm_bindgen_futures::spawn_local(task);
    }
}
