//! A `terraform show -json` plan: read into a stack and checked by every rule.
#![no_main]

use iamlint_core::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = SourceFile::new(FileId(0), "plan.json", text.as_ref());
    if let Ok(stack) = iamlint_terraform::analyse_plan(&file) {
        let selection = iamlint_rules::Selection::new(&[], &[]).expect("all rules");
        let _ = iamlint_rules::check_stack(&stack, &selection);
    }
});
