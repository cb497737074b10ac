//! What the service benches share: this process's memory, as Linux reports it.

/// A `Vm…:` line of `/proc/self/status`, KiB (`None` off Linux).
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resident memory of this process now, KiB.
pub(crate) fn rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// The most resident memory this process has had, KiB.
#[allow(dead_code)] // Not every bench reports the peak.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}
