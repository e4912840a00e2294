//! Entry point of the `attendance` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    keep_large_buffers_mapped();
    attendance::init_tracing();
    let cli = attendance::cli::Cli::parse();
    match attendance::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        // Output piped into `head` and the like: stopping early is not an error.
        Err(error) if is_broken_pipe(&error) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error
        .chain()
        .filter_map(|e| e.downcast_ref::<std::io::Error>())
        .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
}

/// Large buffers (a decoded scan page, a rendered report, a roll call's rows) get mappings of
/// their own, which go back to the system when freed.
///
/// glibc raises its mmap threshold each time such a mapping is freed, up to 32 MiB; after
/// the first sheet import, pages of megabytes then come from the heap, and the heap keeps
/// them resident. A fixed 1 MiB threshold keeps the server's peak RSS in the benchmark at
/// about 141 MiB instead of 176 MiB (`attendance bench`, workload 7).
fn keep_large_buffers_mapped() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before any large allocation.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}
