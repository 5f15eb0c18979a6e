//! CPU-heavy work off the async threads, bounded: argon2 (account passwords), image decoding
//! and resizing (media sub-sizes), KSES on large bodies. WordPress has no equivalent (PHP
//! runs each request in a worker of its own, bounded by the web server's process count).
//!
//! A fixed set of dedicated OS threads takes jobs from one bounded FIFO queue. When the queue
//! is full the job is refused at once with 503 and `Retry-After` (`rest_server_busy`): a flood
//! of expensive requests gets errors instead of making everyone wait behind it. Dedicated
//! threads rather than tokio's blocking pool keep memory bounded: glibc gives every thread
//! that allocates an arena of its own and keeps its blocks, and one argon2 call needs 19 MiB
//! (spread over the blocking pool's threads, 200 users created through the API left a server
//! at 1 GB); here at most `workers` arenas exist.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};

use crate::error::WpError;

/// Seconds a refused client is told to wait: the queue drains in well under that.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Default number of workers when none is configured: one per core, at most this many (each
/// may keep a 19 MiB argon2 block).
const MAX_DEFAULT_WORKERS: usize = 8;

type Job = Box<dyn FnOnce() + Send>;

/// The bounded pool. Dropping it lets the workers finish the queue and exit.
pub struct CpuPool {
    /// `None` when no worker thread could be started: every job is then an error.
    jobs: Option<SyncSender<Job>>,
    workers: usize,
    queue: usize,
    /// Jobs refused because the queue was full.
    busy: AtomicU64,
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuPool")
            .field("workers", &self.workers)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

/// The number of workers for `--cpu-workers` (0: one per core, at most 8).
pub fn effective_workers(configured: usize) -> usize {
    if configured > 0 {
        return configured;
    }
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .min(MAX_DEFAULT_WORKERS)
}

impl CpuPool {
    /// Starts `workers` threads (0: [`effective_workers`]) and a queue of `queue` jobs
    /// waiting (at least 1), besides those running.
    pub fn new(workers: usize, queue: usize) -> Self {
        let workers = effective_workers(workers);
        let queue = queue.max(1);
        let (tx, rx) = mpsc::sync_channel::<Job>(queue);
        let rx = Arc::new(Mutex::new(rx));
        let mut started = 0;
        for i in 0..workers {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cpu-work-{i}"))
                .spawn(move || worker(&rx));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a CPU worker thread"),
            }
        }
        Self {
            jobs: (started > 0).then_some(tx),
            workers: started,
            queue,
            busy: AtomicU64::new(0),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Jobs refused with 503 so far.
    pub fn busy(&self) -> u64 {
        self.busy.load(Ordering::Relaxed)
    }

    /// Runs `job` on a worker and waits for its result without holding an async thread.
    /// Past the queue bound: `Err` 503 `rest_server_busy` at once. If the caller is dropped
    /// (the request was cancelled) before a worker picks the job up, it is skipped.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WpError> {
        let Some(jobs) = &self.jobs else {
            return Err(WpError::internal());
        };
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            if !reply.is_closed() {
                let _ = reply.send(job());
            }
        });
        match jobs.try_send(job) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                let refused = self.busy.fetch_add(1, Ordering::Relaxed) + 1;
                tracing::warn!(
                    workers = self.workers,
                    queue = self.queue,
                    cpu_busy_total = refused,
                    "CPU work refused: the queue is full"
                );
                return Err(WpError::server_busy(BUSY_RETRY_AFTER_SECS));
            }
            Err(TrySendError::Disconnected(_)) => return Err(WpError::internal()),
        }
        // A job that panicked drops `reply` unsent.
        answer.await.map_err(|_| WpError::internal())
    }
}

fn worker(jobs: &Mutex<Receiver<Job>>) {
    loop {
        // The lock is held only while waiting for the next job, not while running it.
        let job = match jobs.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else {
            return; // the pool is gone
        };
        if std::panic::catch_unwind(AssertUnwindSafe(job)).is_err() {
            tracing::error!("a CPU job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn runs_jobs_and_refuses_past_the_queue() {
        let pool = Arc::new(CpuPool::new(1, 2));
        assert_eq!(pool.run(|| 6 * 7).await.expect("ran"), 42);
        // One running and two queued fill the pool; the next is refused at once.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let mut held = vec![];
        for _ in 0..3 {
            let (pool, gate) = (pool.clone(), gate.clone());
            held.push(tokio::spawn(async move {
                pool.run(move || gate.lock().map(|g| g.recv().is_ok()).unwrap_or(false))
                    .await
            }));
        }
        // Let the three be submitted.
        tokio::time::sleep(Duration::from_millis(100)).await;
        let refused = pool.run(|| ()).await.expect_err("full");
        assert_eq!(refused.status.as_u16(), 503);
        assert_eq!(refused.code, "rest_server_busy");
        assert_eq!(pool.busy(), 1);
        for _ in 0..3 {
            release.send(()).expect("release");
        }
        for h in held {
            assert!(h.await.expect("task").expect("ran"));
        }
        assert_eq!(pool.run(|| 1).await.expect("room again"), 1);
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_the_worker_survives() {
        let pool = CpuPool::new(1, 1);
        let e = pool
            .run(|| -> u8 { panic!("boom") })
            .await
            .expect_err("panicked");
        assert_eq!(e.status.as_u16(), 500);
        assert_eq!(pool.run(|| 2).await.expect("still works"), 2);
    }
}
