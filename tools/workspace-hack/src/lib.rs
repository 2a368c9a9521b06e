//! Nothing to call: this crate exists for its `Cargo.toml`. Cargo compiles a dependency once per feature set,
//! and the feature set depends on which crates a command builds: `cargo serve` builds the host and plugins,
//! `cargo run -p openhost-tests` the test harness alone, `cargo test --workspace` everything with its
//! dev-dependencies. Each would enable a different set on some shared crates (`reqwest`'s `blocking`, `serde`'s
//! `alloc`, `getrandom`'s `std`, which `ring` follows) and so rebuild them, the TLS stack, the host and every
//! plugin on each switch. The host, the harness and the xtask depend on this crate, which enables the union,
//! so every command builds one and the same set (the technique of `cargo hakari`, kept by hand here).
