//! The Tauri configuration lives at the repository root (`tauri.conf.json`),
//! beside the workspace manifest, while this crate is in `src-tauri/`.
//! tauri-build reads the configuration from the build script's working
//! directory, so the script moves there first.

fn main() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    // The window's files are embedded at build time. Without them
    // generate_context! fails far from the cause; say what to run instead.
    if !root.join("ui/dist/index.html").exists() {
        eprintln!(
            "error: ui/dist is missing: build the front end first with \
             `scripts/bootstrap run && (cd ui && npm run build)`"
        );
        std::process::exit(1);
    }
    println!("cargo:rerun-if-changed=../tauri.conf.json");
    println!("cargo:rerun-if-changed=../ui/dist");
    std::env::set_current_dir(&root).expect("the repository root exists");
    tauri_build::build();
}
