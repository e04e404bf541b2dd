//! A Terraform root module of one file (`main.tf`), evaluated with its local modules and
//! checked by every rule. The front end reads folders, so the input is written to a folder of
//! this process's own under the temporary directory (a tmpfs on most systems).
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = std::path::Path::new("/dev/shm");
        let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
        let d = base.join(format!("iamlint-fuzz-hcl-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("fuzz dir");
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let root = dir();
    let main = root.join("main.tf");
    std::fs::write(&main, data).expect("write main.tf");
    let ws = iamlint_terraform::Workspace::new(0, std::slice::from_ref(&main));
    let options = iamlint_terraform::Options::default();
    if let Some(analysed) = iamlint_terraform::analyse_root(&ws, root, &options) {
        let selection = iamlint_rules::Selection::new(&[], &[]).expect("all rules");
        let _ = iamlint_rules::check_stack(&analysed.stack, &selection);
    }
    let _ = ws.parse_diagnostics();
});
