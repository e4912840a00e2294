//! What the district run measures, per size and full over small.

use super::Plan;
use crate::replay::VerifyReport;
use serde::Serialize;

/// Row 1: the roll-call burst.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Burst {
    /// Roll calls sent (one per session).
    pub roll_calls: usize,
    /// Marks recorded.
    pub marks: u64,
    /// Seconds from the first request to the last answer.
    pub secs: f64,
    /// Marks per second over the burst.
    pub marks_per_sec: f64,
    /// Roll calls not answered 2xx.
    pub errors: u64,
    /// The first of those, for diagnosis.
    pub first_error: Option<String>,
}

/// Row 2: from the end of the burst until the read models are current.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CatchUp {
    /// Until both projectors had applied the last stored event (none: gave up).
    pub projectors_secs: Option<f64>,
    /// Until the relay's checkpoint covered every event (none: gave up).
    pub relay_secs: Option<f64>,
    /// Until the early warning's process manager had evaluated every event, after the relay
    /// (none: gave up).
    pub warnings_secs: Option<f64>,
    /// Standing events (crossings) stored when the wait ended.
    pub crossings: i64,
    /// Events the relay had not published when the wait ended.
    pub relay_pending: i64,
    /// Server RSS when the wait ended, MiB.
    pub rss_mib: Option<f64>,
}

/// Rows 3 and 4: rebuilding both read models and verifying them against history.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Offline {
    /// Seconds to rebuild both read models.
    pub rebuild_secs: f64,
    /// Events applied per second, each read model's counted (as workload 4 does).
    pub rebuild_events_per_sec: f64,
    /// Seconds of `replay --verify` (refold in memory and compare).
    pub verify_secs: f64,
    /// What it found.
    pub verify: VerifyReport,
}

/// Row 5: the server's memory after every course's statistics and reports were read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Reads {
    /// Requests made (statistics and XLSX per course, PDF for five).
    pub requests: usize,
    /// Requests not answered 2xx.
    pub errors: usize,
    /// Seconds for all of them, one after another.
    pub secs: f64,
    /// Resident memory afterwards, MiB.
    pub rss_mib: Option<f64>,
    /// Peak resident memory of the server's life, MiB.
    pub peak_rss_mib: Option<f64>,
}

/// Row 6: the size of the event table.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Storage {
    /// Events stored.
    pub events: i64,
    /// Everything: heap, indexes, TOAST.
    pub total_bytes: i64,
    /// The heap (main fork) alone.
    pub heap_bytes: i64,
    /// Its indexes.
    pub index_bytes: i64,
    /// Its TOAST table and that table's index.
    pub toast_bytes: i64,
}

impl Storage {
    /// Total bytes per event.
    pub fn total_per_event(&self) -> f64 {
        self.total_bytes as f64 / self.events.max(1) as f64
    }

    /// Heap bytes per event.
    pub fn heap_per_event(&self) -> f64 {
        self.heap_bytes as f64 / self.events.max(1) as f64
    }
}

/// Everything measured at one size.
#[derive(Debug, Clone, Serialize)]
pub struct SizeFigures {
    /// What was loaded.
    pub plan: Plan,
    /// Sessions (45 per course).
    pub sessions: usize,
    /// Seconds to create the students over HTTP and the courses through the write side.
    pub load_secs: f64,
    /// Row 1.
    pub burst: Burst,
    /// Row 2.
    pub current: CatchUp,
    /// Rows 3 and 4.
    pub offline: Offline,
    /// Row 5.
    pub reads: Reads,
    /// Row 6.
    pub storage: Storage,
}

/// Large over small; for times, per event (1.0 is linear). None where either side is missing
/// or zero.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Ratios {
    /// Roll-call marks per second.
    pub burst_marks_per_sec: Option<f64>,
    /// Projectors current, per event.
    pub projectors_current: Option<f64>,
    /// Relay current, per event.
    pub relay_current: Option<f64>,
    /// Early warning current, per event.
    pub warnings_current: Option<f64>,
    /// Rebuild, per event.
    pub rebuild: Option<f64>,
    /// `replay --verify`, per event.
    pub verify: Option<f64>,
    /// Server RSS after the reads.
    pub rss: Option<f64>,
    /// Server peak RSS.
    pub peak_rss: Option<f64>,
    /// Total bytes per event.
    pub total_bytes_per_event: Option<f64>,
    /// Heap bytes per event.
    pub heap_bytes_per_event: Option<f64>,
}

fn quotient(large: Option<f64>, small: Option<f64>) -> Option<f64> {
    match (large, small) {
        (Some(l), Some(s)) if s > 0.0 && l > 0.0 => Some(l / s),
        _ => None,
    }
}

impl Ratios {
    /// Full (`large`) over `small`.
    pub fn of(small: &SizeFigures, large: &SizeFigures) -> Ratios {
        let per_event =
            |f: &SizeFigures, secs: Option<f64>| secs.map(|s| s / f.storage.events.max(1) as f64);
        let cost = |secs: fn(&SizeFigures) -> Option<f64>| {
            quotient(per_event(large, secs(large)), per_event(small, secs(small)))
        };
        Ratios {
            burst_marks_per_sec: quotient(
                Some(large.burst.marks_per_sec),
                Some(small.burst.marks_per_sec),
            ),
            projectors_current: cost(|f| f.current.projectors_secs),
            relay_current: cost(|f| f.current.relay_secs),
            warnings_current: cost(|f| f.current.warnings_secs),
            rebuild: cost(|f| Some(f.offline.rebuild_secs)),
            verify: cost(|f| Some(f.offline.verify_secs)),
            rss: quotient(large.reads.rss_mib, small.reads.rss_mib),
            peak_rss: quotient(large.reads.peak_rss_mib, small.reads.peak_rss_mib),
            total_bytes_per_event: quotient(
                Some(large.storage.total_per_event()),
                Some(small.storage.total_per_event()),
            ),
            heap_bytes_per_event: quotient(
                Some(large.storage.heap_per_event()),
                Some(small.storage.heap_per_event()),
            ),
        }
    }
}

/// The whole district run.
#[derive(Debug, Clone, Serialize)]
pub struct District {
    /// Concurrent clients.
    pub clients: usize,
    /// `--district-scale`.
    pub scale: f64,
    /// The small size.
    pub small: SizeFigures,
    /// The full size.
    pub full: SizeFigures,
    /// Full over small.
    pub ratios: Ratios,
}
