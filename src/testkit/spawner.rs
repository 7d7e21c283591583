use std::cell::RefCell;
use std::rc::Rc;

use crate::ports::{LocalFuture, Spawner};

type Tasks = Vec<(&'static str, Option<LocalFuture<'static, ()>>)>;

/// A [`Spawner`] that keeps what it is given: a test sees which tasks were started, in order, and takes the ones it
/// wants to run ([`FakeSpawner::take`]).
#[derive(Clone, Default)]
pub struct FakeSpawner {
    tasks: Rc<RefCell<Tasks>>,
}

impl FakeSpawner {
    pub fn new() -> Self {
        FakeSpawner::default()
    }

    /// The names of the tasks spawned so far, in order.
    pub fn names(&self) -> Vec<&'static str> {
        self.tasks.borrow().iter().map(|(name, _)| *name).collect()
    }

    /// Takes the first not yet taken task called `name`, to be awaited by the test (`None`: no such task).
    pub fn take(&self, name: &str) -> Option<LocalFuture<'static, ()>> {
        self.tasks.borrow_mut().iter_mut().find(|(n, t)| *n == name && t.is_some()).and_then(|(_, t)| t.take())
    }
}

impl Spawner for FakeSpawner {
    fn spawn(&self, name: &'static str, task: LocalFuture<'static, ()>) {
        self.tasks.borrow_mut().push((name, Some(task)));
    }
}
