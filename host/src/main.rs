//! The `openhost` binary: parses the command line, sets up logging, runs the command. Startup errors print one
//! line on stderr and exit with status 2.

use std::process::ExitCode;

use clap::Parser;
use openhost::{
    cli::{self, Cli, Command, PluginsCommand, StoreCommand},
    live::admin::Command as Control,
};
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
    // Before any thread starts: the sockets an upgrading predecessor handed over, and this binary's path.
    openhost::live::upgrade::remember_executable();
    let inherited = match openhost::live::upgrade::Inherited::from_env() {
        Ok(inherited) => inherited,
        Err(e) => return fail(e.to_string()),
    };

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
                let overrides = openhost::config::Overrides { listen, data_dir };
                let config = openhost::config::Config::load(&config, &overrides)?;
                openhost::run(config, overrides, inherited).await
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
        } => print_or_fail(cli::list(&config)),
        Command::Plugins {
            command: PluginsCommand::Reload { server },
        } => answer(cli::control(&server, Control::Reload)),
        Command::Upgrade { server } => answer(cli::control(&server, Control::Upgrade)),
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
            command: PluginsCommand::Check { file, load, config },
        } => print_or_fail(cli::check(&file, load, config.as_deref())),
        Command::Plugins {
            command: PluginsCommand::Keygen { out, unencrypted },
        } => print_or_fail(cli::keygen(&out, unencrypted)),
        Command::Plugins {
            command:
                PluginsCommand::Sign {
                    file,
                    key,
                    name,
                    version,
                },
        } => print_or_fail(cli::sign(&file, &key, name.as_deref(), version.as_deref())),
    }
}

/// Prints what the running server answered, or why it did not (exit 1: the server said no or was not reached).
fn answer(outcome: Result<String, cli::ControlError>) -> ExitCode {
    match outcome {
        Ok(done) => {
            println!("{done}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("openhost: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints what a command made, or why it failed (exit 2).
fn print_or_fail<E: std::fmt::Display>(outcome: Result<String, E>) -> ExitCode {
    match outcome {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(e.to_string()),
    }
}

fn fail(message: String) -> ExitCode {
    eprintln!("openhost: error: {message}");
    ExitCode::from(CONFIG_ERROR_EXIT)
}
