//! Graceful shutdown: SIGTERM or SIGINT flips one flag that every loop of the process watches.
//! Loops check it between batches, never in the middle of one, so that whatever was read is
//! also processed and acknowledged before the process exits.

use tokio::sync::watch;

/// A cloneable view of the shutdown flag.
#[derive(Debug, Clone)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The side that starts the shutdown.
#[derive(Debug)]
pub struct Trigger {
    tx: watch::Sender<bool>,
}

/// A new flag, not yet set.
pub fn channel() -> (Trigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (Trigger { tx }, Shutdown { rx })
}

impl Trigger {
    /// Starts the shutdown.
    pub fn fire(&self) {
        let _ = self.tx.send(true);
    }

    /// A view of the flag.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown {
            rx: self.tx.subscribe(),
        }
    }
}

impl Shutdown {
    /// `true` once shutdown has started.
    pub fn is_set(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves when shutdown starts (at once if it has).
    pub async fn wait(&mut self) {
        let _ = self.rx.wait_for(|v| *v).await;
    }

    /// Sleeps for `d`, or less if shutdown starts meanwhile. Returns `true` if it did.
    pub async fn sleep(&mut self, d: std::time::Duration) -> bool {
        tokio::select! {
            _ = tokio::time::sleep(d) => self.is_set(),
            _ = self.wait() => true,
        }
    }
}

/// Fires `trigger` on the first SIGTERM or SIGINT; a second signal exits at once with 130
/// (the operator insists).
pub fn on_signals(trigger: Trigger) {
    tokio::spawn(async move {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot install signal handlers; shutdown will not be graceful");
            return;
        };
        let name = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(
            signal = name,
            "shutdown requested: finishing in-flight messages"
        );
        trigger.fire();
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::warn!("second signal: exiting without finishing");
        std::process::exit(130);
    });
}
