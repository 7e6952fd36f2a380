//! Links this package's binaries with taskwatch-core's RELRO fragment, so the watcher
//! tables are read-only at run time (see crates/core/link/watcher-tables.ld).

fn main() {
    if let Ok(script) = std::env::var("DEP_TASKWATCH_WATCHER_TABLES_RELRO_SCRIPT") {
        println!("cargo:rustc-link-arg=-Wl,-T,{script}");
    }
}
