//! A hostile file in `plugin_dir`: the host reads every library as data (object-file structure, then the
//! manifest symbol and its text) before anything of it runs, so that reader must never panic or read out of
//! bounds, whatever the bytes. Seeds: put real plugin libraries into `fuzz/corpus/plugin_file/`.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = openhost::loader::object_file::inspect(data);
    let _ = openhost_plugin_api::manifest::Manifest::parse(data);
});
