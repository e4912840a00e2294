//! Entry point of the `attendance` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
