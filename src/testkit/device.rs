use std::cell::RefCell;

use crate::ports::{DeviceSignals, DeviceSnapshot, LocalFuture};

/// [`DeviceSignals`] that report whatever the test set last.
#[derive(Debug, Default)]
pub struct FakeDevice {
    snapshot: RefCell<DeviceSnapshot>,
}

impl FakeDevice {
    pub fn new(snapshot: DeviceSnapshot) -> Self {
        FakeDevice { snapshot: RefCell::new(snapshot) }
    }

    pub fn set(&self, snapshot: DeviceSnapshot) {
        *self.snapshot.borrow_mut() = snapshot;
    }
}

impl DeviceSignals for FakeDevice {
    fn snapshot(&self) -> LocalFuture<'_, DeviceSnapshot> {
        let snapshot = self.snapshot.borrow().clone();
        Box::pin(async move { snapshot })
    }
}
