//! The `openhost` binary: parses the command line, sets up logging, runs the command. Startup errors print one
//! line on stderr and exit with status 2.

use std::process::ExitCode;

use clap::Parser;
use openhost::cli::{self, Cli, Command, PluginsCommand, StoreCommand};
use tracing_subscriber::EnvFilter;

const CONFIG_ERROR_EXIT: u8 = 2;

/// How long exiting waits for blocking work still running after the server stopped.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    openhost::malloc::tune();

    match cli.command {
        Command::Serve {
            config,
            listen,
            data_dir,
        } => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return fail(format!("cannot start the async runtime: {e}")),
            };
            let result = runtime.block_on(async {
                let config = cli::serve_config(&config, listen, data_dir)?;
                openhost::run(config).await
            });
            // A plugin call that never returned still holds a blocking thread; do not wait for it forever.
            runtime.shutdown_timeout(SHUTDOWN_GRACE);
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(e.to_string()),
            }
        }
        Command::Plugins {
            command: PluginsCommand::List { config },
        } => match cli::list(&config) {
            Ok(table) => {
                print!("{table}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e.to_string()),
        },
        Command::Store {
            command: StoreCommand::Migrate { from, to },
        } => {
            let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
                Ok(runtime) => runtime,
                Err(e) => return fail(format!("cannot start the async runtime: {e}")),
            };
            let handle = runtime.handle().clone();
            match runtime.block_on(cli::migrate(&from, &to, handle)) {
                Ok(report) => {
                    print!("{report}");
                    ExitCode::SUCCESS
                }
                Err(e) => fail(e.to_string()),
            }
        }
        Command::Plugins {
            command: PluginsCommand::Check { file, load },
        } => match cli::check(&file, load) {
            Ok(manifest) => {
                print!("{manifest}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(e),
        },
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("openhost: error: {message}");
    ExitCode::from(CONFIG_ERROR_EXIT)
}
