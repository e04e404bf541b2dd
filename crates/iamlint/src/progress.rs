//! A progress line on stderr for long runs: shown only when stderr is a terminal and the run
//! has taken over a second (never in CI logs, pipes or files), and cleared before the report
//! is written.
//!
//! The check run counts what it has to do and what it has done in two process-wide counters
//! ([`add_total`], [`advance`]); they cost an atomic add each whether or not a line is shown.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static TOTAL: AtomicUsize = AtomicUsize::new(0);
static DONE: AtomicUsize = AtomicUsize::new(0);

/// How long a run goes before the line appears.
const DELAY: Duration = Duration::from_secs(1);
/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(120);

/// Adds `n` units (templates, Terraform modules) to check.
pub fn add_total(n: usize) {
    TOTAL.fetch_add(n, Ordering::Relaxed);
}

/// One unit checked.
pub fn advance() {
    DONE.fetch_add(1, Ordering::Relaxed);
}

/// The line for `done` of `total` after `elapsed`.
pub fn line(done: usize, total: usize, elapsed: Duration) -> String {
    const FRAMES: [char; 10] = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
    let frame = FRAMES[(elapsed.as_millis() / TICK.as_millis()) as usize % FRAMES.len()];
    if total == 0 {
        format!("{frame} iamlint: finding templates…")
    } else {
        format!(
            "{frame} iamlint: checked {} of {total} templates and modules ({}s)",
            done.min(total),
            elapsed.as_secs()
        )
    }
}

/// The drawing thread: its stop flag and wake-up, its handle, and whether it drew a line.
type Drawer = (Arc<(Mutex<bool>, Condvar)>, JoinHandle<()>, Arc<AtomicBool>);

/// The progress line of one run; [`Progress::finish`] (or dropping it) stops and clears it.
pub struct Progress {
    state: Option<Drawer>,
}

impl Progress {
    /// Starts the line for a run, when stderr is a terminal; otherwise does nothing.
    pub fn start() -> Progress {
        TOTAL.store(0, Ordering::Relaxed);
        DONE.store(0, Ordering::Relaxed);
        if !std::io::stderr().is_terminal() {
            return Progress { state: None };
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let drawn = Arc::new(AtomicBool::new(false));
        let (thread_stop, thread_drawn) = (Arc::clone(&stop), Arc::clone(&drawn));
        let started = Instant::now();
        let handle = std::thread::spawn(move || {
            let (lock, wake) = &*thread_stop;
            let mut wait = DELAY;
            loop {
                let Ok(guard) = lock.lock() else { return };
                let Ok((stopped, _)) = wake.wait_timeout_while(guard, wait, |stopped| !*stopped)
                else {
                    return;
                };
                if *stopped {
                    return;
                }
                let text = line(
                    DONE.load(Ordering::Relaxed),
                    TOTAL.load(Ordering::Relaxed),
                    started.elapsed(),
                );
                let mut err = std::io::stderr().lock();
                let _ = write!(err, "\r\x1b[2K{text}");
                let _ = err.flush();
                thread_drawn.store(true, Ordering::Relaxed);
                wait = TICK;
            }
        });
        Progress {
            state: Some((stop, handle, drawn)),
        }
    }

    /// Stops the line and clears it, before anything else is printed.
    pub fn finish(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let Some((stop, handle, drawn)) = self.state.take() else {
            return;
        };
        if let Ok(mut stopped) = stop.0.lock() {
            *stopped = true;
            stop.1.notify_all();
        }
        let _ = handle.join();
        if drawn.load(Ordering::Relaxed) {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_counts_what_is_done() {
        assert!(
            line(3, 10, Duration::from_millis(2600))
                .ends_with("iamlint: checked 3 of 10 templates and modules (2s)"),
        );
        assert!(line(0, 0, Duration::from_secs(1)).contains("finding templates"));
        assert!(line(12, 10, Duration::ZERO).contains("checked 10 of 10"));
    }

    #[test]
    fn nothing_is_drawn_when_stderr_is_not_a_terminal() {
        // `cargo test` captures stderr through a pipe.
        if std::io::stderr().is_terminal() {
            return;
        }
        let progress = Progress::start();
        assert!(progress.state.is_none());
        progress.finish();
    }
}
