//! Runs the fake GitHub on its own, for trying openhost by hand (see README.md).
//!
//! `cargo run -p openhost-tests --bin fake-github -- [ADDR] [REPOS]` (defaults 127.0.0.1:9000 and 150).

use openhost_tests::fake_github::{CLIENT_ID, CLIENT_SECRET, FakeGithub, PAT, USER_LOGIN};

fn main() {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:9000".to_owned());
    let repos = args.next().and_then(|n| n.parse().ok()).unwrap_or(150);
    let Ok(addr) = addr.parse() else {
        eprintln!("fake-github: `{addr}` is not an address like 127.0.0.1:9000");
        std::process::exit(2);
    };
    let fake = FakeGithub::start_on(addr, repos);
    println!("fake GitHub at {} (API and web)", fake.base_url);
    println!("user `{USER_LOGIN}`, {repos} repositories; personal access token: {PAT}");
    // A fixture's published constants, not real credentials.
    println!("GitHub App client_id: {CLIENT_ID}");
    println!("GitHub App client_secret: {CLIENT_SECRET}");
    println!("Ctrl-C to stop");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    if let Ok(runtime) = runtime {
        runtime.block_on(async {
            let _ = tokio::signal::ctrl_c().await;
        });
    }
    drop(fake);
}
