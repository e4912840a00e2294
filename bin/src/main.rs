//! Entry point of the `attendance` command.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    attendance::init_tracing();
    let cli = attendance::cli::Cli::parse();
    match attendance::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
