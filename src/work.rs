//! CPU-heavy work off the async threads, bounded: argon2 (account passwords), image decoding
//! and resizing (media sub-sizes), KSES on large bodies. WordPress has no equivalent (PHP
//! runs each request in a worker of its own, bounded by the web server's process count).
//!
//! A fixed set of dedicated OS threads takes jobs from one bounded queue. When the queue is
//! full the job is refused at once with 503 and `Retry-After` (`rest_server_busy`): a flood of
//! expensive requests gets errors instead of making everyone wait behind it. Jobs of
//! [`Priority::Low`] (logins to an account whose failure budget is spent: what a flood
//! against one account looks like) run after every normal job and give their place up to
//! one when the queue is full, so such a flood cannot keep other users from logging in.
//! Dedicated threads rather than tokio's blocking pool keep memory bounded: glibc gives every
//! thread that allocates an arena of its own and keeps its blocks, and one argon2 call needs
//! 19 MiB (spread over the blocking pool's threads, 200 users created through the API left a
//! server at 1 GB); here at most `workers` arenas exist.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::WpError;

/// Seconds a refused client is told to wait: the queue drains in well under that.
pub const BUSY_RETRY_AFTER_SECS: u64 = 1;

/// Request text up to this many bytes is filtered inline by [`CpuPool::run_sized`].
pub const INLINE_BYTES: usize = 64 * 1024;

/// Default number of workers when none is configured: one per core, at most this many (each
/// may keep a 19 MiB argon2 block).
const MAX_DEFAULT_WORKERS: usize = 8;

/// A queued job: called with `true` to run it, `false` to refuse it (evicted).
type Job = Box<dyn FnOnce(bool) + Send>;

/// Which jobs wait first, and which give their place up when the queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Priority {
    Normal,
    /// Likely part of a flood (e.g. a login to an account that is already throttled).
    Low,
}

#[derive(Default)]
struct Queue {
    normal: VecDeque<Job>,
    low: VecDeque<Job>,
    closed: bool,
}

struct Shared {
    queue: Mutex<Queue>,
    ready: Condvar,
}

/// The bounded pool. Dropping it lets the workers finish the queue and exit.
pub struct CpuPool {
    shared: Arc<Shared>,
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
        let shared = Arc::new(Shared {
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        let mut started = 0;
        for i in 0..workers {
            let shared = shared.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("cpu-work-{i}"))
                .spawn(move || worker(&shared));
            match spawned {
                Ok(_) => started += 1,
                Err(e) => tracing::error!(error = %e, "could not start a CPU worker thread"),
            }
        }
        Self {
            shared,
            workers: started,
            queue: queue.max(1),
            busy: AtomicU64::new(0),
        }
    }

    pub fn workers(&self) -> usize {
        self.workers
    }

    pub fn queue(&self) -> usize {
        self.queue
    }

    /// Jobs waiting for a worker now.
    pub fn waiting(&self) -> usize {
        self.shared
            .queue
            .lock()
            .map_or(0, |q| q.normal.len() + q.low.len())
    }

    /// Jobs refused with 503 so far.
    pub fn busy(&self) -> u64 {
        self.busy.load(Ordering::Relaxed)
    }

    /// `job` over `bytes` of request text: inline up to [`INLINE_BYTES`] (linear code is done
    /// in well under a millisecond), on the pool above (503 when its queue is full).
    pub async fn run_sized<T: Send + 'static>(
        &self,
        bytes: usize,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WpError> {
        if bytes <= INLINE_BYTES {
            Ok(job())
        } else {
            self.run(job).await
        }
    }

    /// [`CpuPool::run_with`] at normal priority.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WpError> {
        self.run_with(Priority::Normal, job).await
    }

    /// Runs `job` on a worker and waits for its result without holding an async thread.
    /// Past the queue bound: `Err` 503 `rest_server_busy` at once (or later, for a low
    /// priority job that gives its place up). If the caller is dropped (the request was
    /// cancelled) before a worker picks the job up, it is skipped.
    pub async fn run_with<T: Send + 'static>(
        &self,
        priority: Priority,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, WpError> {
        if self.workers == 0 {
            return Err(WpError::internal());
        }
        let (reply, answer) = tokio::sync::oneshot::channel::<Option<T>>();
        let job: Job = Box::new(move |run| {
            if !run {
                let _ = reply.send(None);
            } else if !reply.is_closed() {
                let _ = reply.send(Some(job()));
            }
        });
        if self.submit(priority, job).is_err() {
            return Err(self.refused());
        }
        // A job that panicked drops `reply` unsent.
        match answer.await {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(self.refused()),
            Err(_) => Err(WpError::internal()),
        }
    }

    /// Queues `job`; `Err(job)` when there is no room. A normal job takes the place of the
    /// newest low priority one, which is refused.
    fn submit(&self, priority: Priority, job: Job) -> Result<(), Job> {
        let Ok(mut q) = self.shared.queue.lock() else {
            return Err(job);
        };
        let evicted = if q.normal.len() + q.low.len() < self.queue {
            None
        } else if priority == Priority::Normal && !q.low.is_empty() {
            q.low.pop_back()
        } else {
            return Err(job);
        };
        match priority {
            Priority::Normal => q.normal.push_back(job),
            Priority::Low => q.low.push_back(job),
        }
        drop(q);
        self.shared.ready.notify_one();
        if let Some(evicted) = evicted {
            evicted(false);
        }
        Ok(())
    }

    fn refused(&self) -> WpError {
        let refused = self.busy.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::warn!(
            workers = self.workers,
            queue = self.queue,
            cpu_busy_total = refused,
            "CPU work refused: the queue is full"
        );
        WpError::server_busy(BUSY_RETRY_AFTER_SECS)
    }
}

impl Drop for CpuPool {
    fn drop(&mut self) {
        if let Ok(mut q) = self.shared.queue.lock() {
            q.closed = true;
        }
        self.shared.ready.notify_all();
    }
}

fn worker(shared: &Shared) {
    loop {
        let job = {
            let Ok(mut q) = shared.queue.lock() else {
                return;
            };
            loop {
                if let Some(job) = q.normal.pop_front().or_else(|| q.low.pop_front()) {
                    break job;
                }
                if q.closed {
                    return;
                }
                q = match shared.ready.wait(q) {
                    Ok(q) => q,
                    Err(_) => return,
                };
            }
        };
        if std::panic::catch_unwind(AssertUnwindSafe(|| job(true))).is_err() {
            tracing::error!("a CPU job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// Waits (a bounded time) until a worker has started a job that signals `started`.
    async fn wait_started(started: &std::sync::mpsc::Receiver<()>) {
        for _ in 0..3000 {
            if started.try_recv().is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("no worker started the job within 30 s");
    }

    /// Lets every spawned task of this single-threaded test runtime run up to its first
    /// wait (where `CpuPool::run` has submitted its job).
    async fn settle() {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
    }

    #[tokio::test]
    async fn runs_jobs_and_refuses_past_the_queue() {
        let pool = Arc::new(CpuPool::new(1, 2));
        assert_eq!(pool.run(|| 6 * 7).await.expect("ran"), 42);
        // One running and two queued fill the pool; the next is refused at once.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(Mutex::new(gate));
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let mut held = vec![];
        for i in 0..3 {
            let (pool, gate, started_tx) = (pool.clone(), gate.clone(), started_tx.clone());
            held.push(tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    gate.lock().map(|g| g.recv().is_ok()).unwrap_or(false)
                })
                .await
            }));
            if i == 0 {
                // The worker holds the first job before the others are queued.
                wait_started(&started).await;
            }
        }
        settle().await;
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
    async fn a_normal_job_takes_the_place_of_a_low_priority_one() {
        let pool = Arc::new(CpuPool::new(1, 1));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let (started_tx, started) = std::sync::mpsc::channel::<()>();
        let busy_worker = {
            let pool = pool.clone();
            tokio::spawn(async move {
                pool.run(move || {
                    let _ = started_tx.send(());
                    gate.recv().is_ok()
                })
                .await
            })
        };
        wait_started(&started).await;
        let low = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run_with(Priority::Low, || "low").await })
        };
        settle().await;
        // The queue (1) holds the low job: another low one is refused...
        let e = pool
            .run_with(Priority::Low, || "low 2")
            .await
            .expect_err("full");
        assert_eq!(e.status.as_u16(), 503);
        // ...but a normal one takes its place.
        let normal = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| "normal").await })
        };
        let e = low.await.expect("task").expect_err("evicted");
        assert_eq!(e.code, "rest_server_busy");
        release.send(()).expect("release");
        assert!(busy_worker.await.expect("task").expect("ran"));
        assert_eq!(normal.await.expect("task").expect("ran"), "normal");
        assert_eq!(pool.busy(), 2);
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
