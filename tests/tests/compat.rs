//! Plugins built against an earlier 1.x keep working (docs/plugin-interface.md). The proof, kept forever:
//! `tests/fixtures/compat-1.N/` are plugins built against frozen copies of each released interface crate; the
//! current host must load them and serve every slot they fill. A simulated next minor (the frozen 1.0 copy with
//! one method appended to a slot trait) shows both directions: this host refuses a plugin built for it in one
//! line, and a host of that minor loads the 1.0 plugin and gets the appended method's default from it.

use std::{
    collections::HashMap,
    path::PathBuf,
    process::Command,
    sync::{Mutex, OnceLock},
};

use openhost_plugin_api::INTERFACE_MINOR;
use openhost_tests::{
    Site, client, get_json,
    out_of_tree::{built_library, cargo_build, copy_dir, target_dir, tree_digest},
    send, workspace_root,
};
use serde_json::json;

/// The digests of `tests/fixtures/compat-1.N/api` as frozen. Never update one to match an edit of its copy.
const FROZEN_APIS: &[(&str, &str)] = &[
    (
        "1.0",
        "b758b52021e2be0426f8728ffd43c233da4ec75931e4a336e7f77de72c797d6a",
    ),
    (
        "1.1",
        "70e307c4f2534e75304b47c0fbefa17433608c924a6e6d1b215f41a3530dff88",
    ),
    (
        "1.2",
        "7bb1534d95ee8b24f4ff174619ee4636d206805ac6767ee8faa5df24f1a56c96",
    ),
    (
        "1.3",
        "69b84efeaf5f4d354fda8b9afd83eeecedce01e97a8310fdb51f1dfb1fe6ce91",
    ),
    (
        "1.4",
        "3aaa790a61b0dbbdfb443a8bb82a7c15b9a8987d4ac3e6d50e99aa6ca9404b44",
    ),
    (
        "1.5",
        "d7eeef92f9ffd8f8aac3362759469f2e2d34030e04cde21283a6a85f8abd9b57",
    ),
];

fn fixture_dir(version: &str) -> PathBuf {
    workspace_root().join(format!("tests/fixtures/compat-{version}"))
}

/// A compat plugin library, built once per test run from its frozen sources and lock file.
fn compat_library(version: &'static str) -> PathBuf {
    static BUILT: OnceLock<Mutex<HashMap<&'static str, PathBuf>>> = OnceLock::new();
    let mut built = BUILT
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    built
        .entry(version)
        .or_insert_with(|| {
            let package = format!("compat-plugin-{}", version.replace('.', "-"));
            cargo_build(&fixture_dir(version), &["--locked", "-p", &package]);
            built_library(&package)
        })
        .clone()
}

fn compat_1_0_library() -> PathBuf {
    compat_library("1.0")
}

#[test]
fn the_frozen_interface_copies_are_unchanged() {
    for (version, digest) in FROZEN_APIS {
        assert_eq!(
            tree_digest(&fixture_dir(version).join("api")),
            *digest,
            "tests/fixtures/compat-{version}/api changed: it is the {version} interface as plugins were built against \
             it; restore it"
        );
    }
}

#[test]
fn a_plugin_built_against_1_1_is_served_with_the_1_1_addition() {
    let site = Site::new();
    std::fs::copy(compat_library("1.1"), site.plugin_dir().join("libcompat_plugin_1_1.so")).unwrap();
    site.write_config("");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["interface"], "1.1");
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!((status, config["APP_MODE"].as_str()), (200, Some("compat-1.1")));
    assert_eq!(headers["x-compat"], "1.1");
    let (_, _, repos) = get_json(&host.url("/api/user/repositories?installation_id=7"));
    assert_eq!(repos[0]["full_name"], "compat/installation-7", "the 1.1 method, served");
    let (_, _, repos) = get_json(&host.url("/api/user/repositories"));
    assert_eq!(repos[0]["full_name"], "compat/one");
}

#[test]
fn a_plugin_built_against_1_2_is_served_with_the_1_2_additions() {
    let site = Site::new();
    std::fs::copy(compat_library("1.2"), site.plugin_dir().join("libcompat_plugin_1_2.so")).unwrap();
    site.write_config("");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["interface"], "1.2");
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!((status, config["APP_MODE"].as_str()), (200, Some("compat-1.2")));
    assert_eq!(headers["x-compat"], "1.2");
    let (_, _, repos) = get_json(&host.url("/api/user/repositories?installation_id=7"));
    assert_eq!(repos[0]["full_name"], "compat/installation-7");
    let (status, _, body) = get_json(&host.url("/compat/kv?value=kept"));
    assert_eq!((status, body), (200, json!({"stored": "kept"})));

    // 1.2: the plugin's public origin is same-site and its host name is served...
    let settings = |origin: &str| {
        send(
            client()
                .post(host.url("/api/settings"))
                .header("origin", origin)
                .header("content-type", "application/json")
                .body(r#"{"language": "en"}"#),
        )
        .0
    };
    assert_eq!(settings("https://compat.example"), 200);
    assert_eq!(settings("https://other.example"), 403);
    let (status, _, _) = send(
        client()
            .get(host.url("/api/options/config"))
            .header("host", "compat.example"),
    );
    assert_eq!(status, 200);
    let (status, _, _) = send(
        client()
            .get(host.url("/api/options/config"))
            .header("host", "other.example"),
    );
    assert_eq!(status, 421);
    // ...and its webhook route takes a cross-site POST.
    let (status, _, body) = send(
        client()
            .post(host.url("/compat/hook"))
            .header("origin", "https://other.example")
            .header("sec-fetch-site", "cross-site"),
    );
    assert_eq!((status, body), (200, json!({"hook": "received"})));
}

#[test]
fn a_plugin_built_against_1_3_is_served_with_the_1_3_services() {
    let site = Site::new();
    std::fs::copy(compat_library("1.3"), site.plugin_dir().join("libcompat_plugin_1_3.so")).unwrap();
    site.write_config("");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["interface"], "1.3");
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!((status, config["APP_MODE"].as_str()), (200, Some("compat-1.3")));
    assert_eq!(headers["x-compat"], "1.3");
    let (status, _, body) = get_json(&host.url("/compat/kv?value=kept"));
    assert_eq!((status, body), (200, json!({"stored": "kept"})));
    // 1.3: a lease held around an expiring key's write and read.
    let (status, _, body) = get_json(&host.url("/compat/lease?value=leased"));
    assert_eq!((status, body), (200, json!({"held": true, "read": "leased"})));
    let (status, _, body) = get_json(&host.url("/compat/lease?value=again"));
    assert_eq!(
        (status, body),
        (200, json!({"held": true, "read": "again"})),
        "released on drop"
    );
}

/// A 1.4 plugin's middleware lacks the 1.5 `decide` and `reads_body`: the host runs their defaults, so its
/// `on_request` still stamps every answer.
#[test]
fn a_plugin_built_against_1_4_is_served_with_the_1_4_metrics() {
    let site = Site::new();
    std::fs::copy(compat_library("1.4"), site.plugin_dir().join("libcompat_plugin_1_4.so")).unwrap();
    site.write_config("");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["interface"], "1.4");
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!((status, config["APP_MODE"].as_str()), (200, Some("compat-1.4")));
    assert_eq!(headers["x-compat"], "1.4");
    let (status, _, body) = get_json(&host.url("/compat/lease?value=leased"));
    assert_eq!((status, body), (200, json!({"held": true, "read": "leased"})));
    // 1.4: a metric recorded (without metrics_listen the host keeps nothing and says yes).
    let (status, headers, body) = get_json(&host.url("/compat/metric"));
    assert_eq!((status, body), (200, json!({"counted": true})));
    assert_eq!(headers["x-compat-status"], "200", "the 1.4 response hook still runs");
}

/// A 1.5 plugin's middleware lacks the 1.6 `hooks`: the host calls both of its hooks, as a 1.5 host did. Its
/// `decide` still changes requests before routing, its body included, and its routes take parameters.
#[test]
fn a_plugin_built_against_1_5_is_served_with_the_1_5_request_changes() {
    let site = Site::new();
    std::fs::copy(compat_library("1.5"), site.plugin_dir().join("libcompat_plugin_1_5.so")).unwrap();
    site.write_config("");
    let host = site.start();
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(plugins["plugins"][0]["interface"], "1.5");
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!((status, config["APP_MODE"].as_str()), (200, Some("compat-1.5")));
    assert_eq!(headers["x-compat"], "1.5");
    assert_eq!(headers["x-compat-status"], "200", "the 1.5 response hook still runs");
    let (status, _, body) = get_json(&host.url("/compat/old/7"));
    assert_eq!((status, body), (200, json!({"item": "7", "from": "compat-1.5"})));
    let echoed = send(client().post(host.url("/compat/echo")).body("quiet"));
    assert_eq!((echoed.0, echoed.2), (200, json!({"body": "QUIET"})));
    let (status, _, body) = get_json(&host.url("/compat/lease?value=leased"));
    assert_eq!((status, body), (200, json!({"held": true, "read": "leased"})));
}

#[test]
fn a_plugin_built_against_1_0_is_served_in_every_slot() {
    let site = Site::new();
    std::fs::copy(compat_1_0_library(), site.plugin_dir().join("libcompat_plugin_1_0.so")).unwrap();
    site.write_config("[plugins.compat-1-0.config]\ngreeting = \"still here\"\n");
    let host = site.start();

    let (status, _, plugins) = get_json(&host.url("/api/plugins"));
    assert_eq!(status, 200);
    let record = &plugins["plugins"][0];
    assert_eq!(
        (record["name"].as_str(), record["interface"].as_str()),
        (Some("compat-1-0"), Some("1.0"))
    );
    assert_eq!(record["loaded"], true);
    for slot in ["server_config", "user_auth", "git_service"] {
        assert_eq!(plugins["slots"][slot], "compat-1-0", "{slot}");
    }

    // middleware (request and response hook) and server_config
    let (status, headers, config) = get_json(&host.url("/api/options/config"));
    assert_eq!(status, 200);
    assert_eq!(config, json!({"APP_MODE": "compat-1.0", "greeting": "still here"}));
    assert_eq!(headers["x-compat"], "1.0");
    assert_eq!(headers["x-compat-status"], "200");

    // routes, through the host's key-value service; and a public route
    let (status, _, body) = get_json(&host.url("/compat/kv?value=kept"));
    assert_eq!((status, body), (200, json!({"stored": "kept"})));
    let (status, _, body) = get_json(&host.url("/compat/public"));
    assert_eq!((status, body), (200, json!({"path": "/compat/public"})));
    let public: Vec<_> = plugins["slots"]["routes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["owner"] == "compat-1-0")
        .map(|r| (r["path"].as_str().unwrap().to_owned(), r["public"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        public,
        [("/compat/kv".to_owned(), false), ("/compat/public".to_owned(), true)]
    );

    // user_auth and git_service, with typed records
    let (status, _, user) = get_json(&host.url("/api/user/info"));
    assert_eq!(status, 200, "{user}");
    assert_eq!(
        (user["id"].clone(), user["login"].clone()),
        (json!("1"), json!("compat"))
    );
    let (_, _, repos) = get_json(&host.url("/api/user/repositories"));
    assert_eq!(repos[0]["full_name"], "compat/one");
    assert_eq!(repos[0]["main_branch"], "main");
    assert_eq!(repos[0]["owner_type"], "organization");
    // Built before interface 1.1 added `installation_repositories`: the host runs the method's default (the
    // user's repositories) for it.
    let (status, _, repos) = get_json(&host.url("/api/user/repositories?installation_id=7"));
    assert_eq!((status, repos[0]["full_name"].as_str()), (200, Some("compat/one")));
    let (_, _, found) = get_json(&host.url("/api/user/search/repositories?query=one"));
    assert_eq!(found.as_array().unwrap().len(), 1);
    let (_, _, branches) = get_json(&host.url("/api/user/repository/branches?repository=compat/one"));
    assert_eq!(branches["branches"][0]["name"], "main");
    let (status, _, _) = get_json(&host.url("/api/user/repository/branches?repository=compat/two"));
    assert_eq!(status, 404);
    let (_, _, installations) = get_json(&host.url("/api/user/installations"));
    assert_eq!(installations, json!(["9"]));

    // sign-out through user_auth
    let (status, headers, _) = send(client().post(host.url("/api/logout")));
    assert_eq!(status, 200);
    assert_eq!(headers["x-compat-signed-out"], "yes");
    host.wait_for_log("compat-1.0 plugin initialised", std::time::Duration::from_secs(5));
}

/// The minor after this host's: what the simulation claims.
fn next_minor() -> u32 {
    INTERFACE_MINOR + 1
}

/// A workspace with the frozen 1.0 copy turned into the next minor by one appended method, a plugin built
/// against it, and a probe: a minimal host of that minor that loads a library and calls the appended method.
fn simulated_next_minor() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let next = next_minor();
            let dir = target_dir().join(format!("compat-1.{next}-simulated"));
            let _ = std::fs::remove_dir_all(&dir);
            copy_dir(&fixture_dir("1.0"), &dir);
            let patch = |file: &str, anchor: &str, replacement: &str| {
                let path = dir.join(file);
                let text = std::fs::read_to_string(&path).unwrap();
                assert!(text.contains(anchor), "{file} no longer contains {anchor:?}");
                std::fs::write(&path, text.replacen(anchor, replacement, 1)).unwrap();
            };
            // The package version moves with the interface, as a real release's would. Its pre-release tag keeps
            // this copy's build apart, in the shared target directory, from the frozen copy of the real 1.{next}
            // once there is one (cargo hashes a workspace member's artifacts by name and version, not path).
            patch(
                "api/Cargo.toml",
                "version = \"1.0.0\"",
                &format!("version = \"1.{next}.0-simulated\""),
            );
            patch("api/src/export.rs", "        \"1.0.0\"\n", &format!("        \"1.{next}.0\"\n"));
            patch("api/src/interface.rs", "INTERFACE_MINOR: u32 = 0;", &format!("INTERFACE_MINOR: u32 = {next};"));
            patch("api/src/interface.rs", "        \"1.0\"\n", &format!("        \"1.{next}\"\n"));
            patch(
                "api/src/wire/slots.rs",
                "fn suggested_tasks<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, RVec<SuggestedTask>>;\n",
                "fn suggested_tasks<'a>(&'a self, identity: IdentityView<'a>) -> FfiResult<'a, RVec<SuggestedTask>>;\n\n    \
                 /// Added in the next minor (simulated); plugins built earlier lack it and get this default.\n    \
                 fn added_in_1_1(&self) -> u32 {\n        1101\n    }\n",
            );
            patch("plugin/Cargo.toml", "name = \"compat-plugin-1-0\"", "name = \"compat-plugin-next\"");
            patch("plugin/src/lib.rs", "name: \"compat-1-0\"", "name: \"compat-next\"");
            patch("Cargo.toml", "members = [\"api\", \"plugin\"]", "members = [\"api\", \"plugin\", \"probe\"]");
            std::fs::create_dir_all(dir.join("probe/src")).unwrap();
            std::fs::write(dir.join("probe/Cargo.toml"), PROBE_MANIFEST).unwrap();
            std::fs::write(dir.join("probe/src/main.rs"), PROBE_MAIN).unwrap();
            cargo_build(&dir, &["--offline"]);
            dir
        })
        .clone()
}

#[test]
fn a_plugin_built_for_a_newer_minor_is_refused_naming_the_upgrade() {
    simulated_next_minor();
    let site = Site::new();
    std::fs::copy(
        built_library("compat-plugin-next"),
        site.plugin_dir().join("libcompat_plugin_next.so"),
    )
    .unwrap();
    site.write_config("");
    let failure = site.expect_startup_failure(&[]);
    assert_eq!(failure.status.code(), Some(2));
    let (current, next) = (INTERFACE_MINOR, next_minor());
    let expected = format!(
        "plugin `compat-next` needs plugin interface 1.{next}, this host provides 1.{current}: upgrade openhost (or \
         build compat-next against openhost-plugin-api 1.{current})"
    );
    assert!(failure.error_line().contains(&expected), "{}", failure.error_line());
}

#[test]
fn a_newer_minor_host_loads_a_1_0_plugin_and_runs_the_default_of_what_it_lacks() {
    simulated_next_minor();
    let output = Command::new(target_dir().join("debug").join("compat-probe"))
        .arg(compat_1_0_library())
        .output()
        .expect("run the 1.1 probe");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "abi_stable_own_check=refused",
            "manages_tokens=false",
            "providers=github",
            "added_in_1_1=1101",
            "middleware_order=500"
        ],
        "abi_stable's own check refuses the older plugin, the host's accepts it, old methods answer, and the \
         appended one falls back to its default"
    );
}

const PROBE_MANIFEST: &str = r#"[package]
name = "compat-probe"
version = "1.1.0"
edition = "2021"
publish = false

[dependencies]
openhost-plugin-api = { path = "../api" }
abi_stable = { version = "0.11", default-features = false }
async-ffi = { version = "0.5", features = ["abi_stable"] }
"#;

/// A host reduced to what loading and calling needs: services that answer errors, no server.
const PROBE_MAIN: &str = r#"
use abi_stable::{abi_stability::abi_checking::check_layout_compatibility, library::lib_header_from_path,
    prefix_type::PrefixTypeTrait, sabi_types::RRef, std_types::{ROption, RResult, RStr, RString, RVec}, StableAbi};
use async_ffi::{FfiFuture, FutureExt};
use openhost_plugin_api::{host::{HostContext, HostContextRef}, HostServices,
    HttpRequest, KvEntry, LogLevel, PluginError, PluginModRef, Response};

type Failing<T> = FfiFuture<RResult<T, PluginError>>;
fn failing<T: Send + 'static>() -> Failing<T> {
    async { RResult::RErr(PluginError::other("the probe has no services")) }.into_ffi()
}
extern "C" fn log(_: HostContextRef, _: LogLevel, _: RStr<'_>, message: RStr<'_>) { eprintln!("plugin: {message}"); }
extern "C" fn kv_get(_: HostContextRef, _: RVec<u8>) -> Failing<ROption<RVec<u8>>> { failing() }
extern "C" fn kv_put(_: HostContextRef, _: RVec<u8>, _: RVec<u8>) -> Failing<()> { failing() }
extern "C" fn kv_delete(_: HostContextRef, _: RVec<u8>) -> Failing<bool> { failing() }
extern "C" fn kv_cas(_: HostContextRef, _: RVec<u8>, _: ROption<RVec<u8>>, _: ROption<RVec<u8>>) -> Failing<bool> { failing() }
extern "C" fn kv_scan(_: HostContextRef, _: RVec<u8>, _: u32) -> Failing<RVec<KvEntry>> { failing() }
extern "C" fn kv_flush(_: HostContextRef) -> Failing<()> { failing() }
extern "C" fn http(_: HostContextRef, _: HttpRequest) -> Failing<Response> { failing() }
extern "C" fn sleep(_: HostContextRef, _: u64) -> FfiFuture<()> { async {}.into_ffi() }

static CONTEXT: u8 = 0;

fn main() {
    let path = std::env::args().nth(1).expect("library path");
    let header = lib_header_from_path(std::path::Path::new(&path)).expect("open");
    // abi_stable's own rule wants the loader to be the older side, so it refuses an older plugin...
    let own = header.ensure_layout::<PluginModRef>();
    println!("abi_stable_own_check={}", if own.is_ok() { "accepted" } else { "refused" });
    // ...and the host's check, with the roles reversed, accepts it (host/src/loader/mod.rs, check_layout).
    let plugin_layout = header.layout().expect("a layout to check");
    check_layout_compatibility(plugin_layout, <PluginModRef as StableAbi>::LAYOUT).expect("layout check");
    // SAFETY: checked just above.
    let module = unsafe { header.init_root_module_with_unchecked_layout::<PluginModRef>() }.expect("version");
    // SAFETY: the context is never read by these services.
    let context = unsafe { RRef::from_raw(&CONTEXT as *const u8 as *const HostContext) };
    let services = HostServices {
        context, max_log_level: LogLevel::Warn, log, kv_get, kv_put, kv_delete, kv_compare_and_swap: kv_cas,
        kv_scan_prefix: kv_scan, kv_flush, http, sleep,
    }.leak_into_prefix();
    let plugin = module.init()(services, RString::from("{}")).into_result().expect("init");
    let git = plugin.git_service().into_option().expect("a git service");
    println!("manages_tokens={}", git.manages_tokens());
    println!("providers={}", git.providers().iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","));
    println!("added_in_1_1={}", git.added_in_1_1());
    println!("middleware_order={}", plugin.middleware().into_option().expect("middleware").order());
}
"#;
