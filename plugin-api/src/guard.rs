//! Panic guards. A panic that reached the `extern "C"` boundary would abort the whole host (DESIGN.md 3.4), so
//! every entry point into plugin code runs under `catch_unwind` and turns a panic into
//! [`PluginError::Panicked`].

use std::{
    any::Any,
    future::Future,
    panic::{catch_unwind, AssertUnwindSafe},
};

use abi_stable::std_types::{RResult, RString};
use async_ffi::BorrowingFfiFuture;
use futures_util::FutureExt;

use crate::PluginError;

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

fn panicked(payload: Box<dyn Any + Send>) -> PluginError {
    PluginError::Panicked(RString::from(panic_message(&*payload)))
}

/// Runs a synchronous call, catching a panic.
pub fn guard_call<T>(call: impl FnOnce() -> Result<T, PluginError>) -> RResult<T, PluginError> {
    match catch_unwind(AssertUnwindSafe(call)) {
        Ok(result) => result.into(),
        Err(payload) => RResult::RErr(panicked(payload)),
    }
}

/// Wraps a future so that building it and every poll of it are guarded. The closure runs on the first poll,
/// inside the guard, so a panic while constructing the plugin's future is caught too.
pub fn guard_future<'a, T, F, Fut>(make: F) -> BorrowingFfiFuture<'a, RResult<T, PluginError>>
where
    F: FnOnce() -> Fut + Send + 'a,
    Fut: Future<Output = Result<T, PluginError>> + Send + 'a,
    T: 'a,
{
    let guarded = AssertUnwindSafe(async move { make().await }).catch_unwind();
    BorrowingFfiFuture::new(async move {
        match guarded.await {
            Ok(result) => result.into(),
            Err(payload) => RResult::RErr(panicked(payload)),
        }
    })
}
