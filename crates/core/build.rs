//! Publishes the linker-script fragment that makes the watcher tables read-only
//! (link/watcher-tables.ld) to dependent build scripts, and applies it to core's tests.

use std::path::Path;

fn main() {
    let dir = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let script = Path::new(&dir).join("link/watcher-tables.ld");
    println!("cargo:rerun-if-changed=link/watcher-tables.ld");
    // Read by dependents as DEP_TASKWATCH_WATCHER_TABLES_RELRO_SCRIPT.
    println!("cargo:relro_script={}", script.display());
    println!("cargo:rustc-link-arg-tests=-Wl,-T,{}", script.display());
}
