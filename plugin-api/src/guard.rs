//! Panic guards. A panic that reached the `extern "C"` boundary would abort the whole host (docs/architecture.md,
//! "Panics"), so every entry point into plugin code runs under `catch_unwind` and turns a panic into
//! [`PluginError::Panicked`].

use std::{
    any::Any,
    future::Future,
    panic::{catch_unwind, AssertUnwindSafe},
    pin::Pin,
    task::{Context, Poll},
};

use abi_stable::std_types::{RResult, RString};
use async_ffi::BorrowingFfiFuture;
use pin_project_lite::pin_project;

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
    BorrowingFfiFuture::new(Guarded {
        make: Some(make),
        future: None,
    })
}

pin_project! {
    /// A future built lazily by `make` and polled under `catch_unwind`. One state machine, no nested async
    /// blocks: this sits on every plugin call, so it is kept lean (see docs/benchmarks.md).
    struct Guarded<F, Fut> {
        make: Option<F>,
        #[pin]
        future: Option<Fut>,
    }
}

impl<T, F, Fut> Future for Guarded<F, Fut>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<T, PluginError>>,
{
    type Output = RResult<T, PluginError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        let polled = catch_unwind(AssertUnwindSafe(|| {
            if let Some(make) = this.make.take() {
                this.future.set(Some(make()));
            }
            match this.future.as_mut().as_pin_mut() {
                Some(future) => future.poll(cx),
                None => Poll::Ready(Err(PluginError::other("a plugin future was polled after it completed"))),
            }
        }));
        let output = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(payload) => Err(panicked(payload)),
        };
        // The finished (or panicked) future is dropped now, under the guard too: its destructor is plugin code.
        let _ = catch_unwind(AssertUnwindSafe(|| this.future.set(None)));
        Poll::Ready(output.into())
    }
}
