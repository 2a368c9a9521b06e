//! Files someone else drops into `plugin_dir` (docs/security.md, "A file in plugin_dir"): a huge sparse file, a
//! copy of a listed plugin under another name, a library swapped while a reload reads it. None of them may stop
//! the host, swell its memory, or make `/api/plugins` show a digest other than the one of the bytes loaded.

use std::{collections::BTreeSet, path::Path, time::Duration};

use openhost_tests::{Site, get_json, peak_rss_kib, plugin_images, sha256, while_swapping};
use serde_json::Value;

fn reload(site: &Site) -> String {
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["plugins", "reload", "--config", &config]);
    assert!(status.success(), "{stdout}{stderr}");
    stdout
}

fn plugin<'a>(plugins: &'a Value, name: &str) -> &'a Value {
    plugins["plugins"]
        .as_array()
        .and_then(|all| all.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no plugin {name} in {plugins}"))
}

#[test]
fn a_huge_sparse_file_is_skipped_unread() {
    let site = Site::new();
    site.add_plugin("openhost-example-header-stamp");
    site.write_config("");
    let host = site.start();
    let before = peak_rss_kib(host.pid());
    assert!(before > 0);

    // 1.5 GB that take no disk: reading it whole would take as much memory.
    let planted = site.plugin_dir().join("libx.so");
    let file = std::fs::File::create(&planted).unwrap();
    file.set_len(1500 << 20).unwrap();
    drop(file);
    reload(&site);
    let after = peak_rss_kib(host.pid());
    assert!(
        after < before + 50 * 1024,
        "peak resident memory went from {before} KiB to {after} KiB"
    );
    let logs = host.wait_for_log("larger than a plugin library may be", Duration::from_secs(5));
    assert!(logs.contains("libx.so"), "{logs}");
    let (status, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(status, 200);
    assert!(headers.contains_key("x-openhost-stamp"), "the real plugin still serves");

    // `plugins list` reads the same way.
    let config = site.config_path().display().to_string();
    let (status, stdout, stderr) = site.cli(&["plugins", "list", "--config", &config]);
    assert!(status.success() && stdout.contains("header-stamp"), "{stdout}{stderr}");
}

#[test]
fn a_copy_of_a_listed_plugin_under_another_name_changes_nothing() {
    let site = Site::new();
    let real = site.add_plugin("openhost-example-header-stamp");
    let pin = sha256(&real);
    std::fs::copy(&real, site.plugin_dir().join("aa-planted.so")).unwrap();
    // The same plugin with other bytes (a trailer after the ELF image: it still loads).
    let mut other = std::fs::read(&real).unwrap();
    other.extend_from_slice(&[0u8; 4096]);
    std::fs::write(site.plugin_dir().join("ab-planted.so"), &other).unwrap();
    site.write_config(&format!(
        "require_listed = true\n[plugins.header-stamp]\nsha256 = \"{pin}\"\n[plugins.header-stamp.config]\nheader = \"x-openhost-stamp\"\nvalue = \"real\"\n"
    ));
    let host = site.start();
    let (_, headers, _) = get_json(&host.url("/healthz"));
    assert_eq!(headers["x-openhost-stamp"], "real");
    let (_, _, plugins) = get_json(&host.url("/api/plugins"));
    let stamp = plugin(&plugins, "header-stamp");
    assert_eq!(
        (stamp["loaded"].as_bool(), stamp["sha256"].as_str()),
        (Some(true), Some(pin.as_str()))
    );
    host.wait_for_log("another file declares the same plugin", Duration::from_secs(5));

    // An unlisted plugin under require_listed does nothing, however many copies of it there are.
    let greeter = site.add_plugin("fixture-greeter");
    std::fs::copy(&greeter, site.plugin_dir().join("zz-greeter-copy.so")).unwrap();
    let mut padded = std::fs::read(&greeter).unwrap();
    padded.extend_from_slice(&[0u8; 4096]);
    std::fs::write(site.plugin_dir().join("zz-greeter-other.so"), &padded).unwrap();
    reload(&site);
    assert_eq!(get_json(&host.url("/healthz")).0, 200);
    drop(host);
    site.start();
}

#[test]
fn api_plugins_shows_the_digest_of_the_bytes_loaded() {
    let site = Site::new();
    let real = site.add_plugin("fixture-greeter");
    let mut padded = std::fs::read(&real).unwrap();
    padded.extend_from_slice(&[0u8; 4096]);
    let variants = [std::fs::read(&real).unwrap(), padded];
    site.write_config("");
    let host = site.start();
    let pid = host.pid();

    // The library swapped between two builds of one plugin (same manifest, other bytes) while it reloads.
    while_swapping(&real, &variants, || {
        let mut seen: BTreeSet<u64> = plugin_images(pid, "greeter").into_iter().map(|(ino, _)| ino).collect();
        for round in 0..30 {
            reload(&site);
            let new: Vec<_> = plugin_images(pid, "greeter")
                .into_iter()
                .filter(|(ino, _)| !seen.contains(ino))
                .collect();
            assert_eq!(new.len(), 1, "round {round}: one new image per reload");
            seen.insert(new[0].0);
            let loaded = sha256(Path::new(&new[0].1));
            let (_, _, plugins) = get_json(&host.url("/api/plugins"));
            assert_eq!(
                plugin(&plugins, "greeter")["sha256"].as_str(),
                Some(loaded.as_str()),
                "round {round}: /api/plugins names other bytes than those loaded"
            );
        }
    });
}
