//! Process signals. SIGTERM is how Kubernetes asks a pod to stop; SIGINT is Ctrl-C by hand.
//! Both start the same graceful drain.

use std::future::Future;

/// Registers the SIGTERM and SIGINT handlers now, and returns a future that resolves on the
/// first of them. Registering before the server reports SERVING matters: a SIGTERM that
/// arrived before the handlers existed would kill the process without a drain.
pub fn signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let handlers = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        );
        async move {
            match handlers {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => tracing::info!(signal = "SIGTERM", "shutdown requested"),
                        _ = int.recv() => tracing::info!(signal = "SIGINT", "shutdown requested"),
                    }
                }
                (Err(error), _) | (_, Err(error)) => {
                    tracing::error!(%error, "cannot listen for signals, falling back to ctrl-c only");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
