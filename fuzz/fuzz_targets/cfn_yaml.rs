//! A YAML template: read, expanded (SAM, language extensions) and checked by every rule.
#![no_main]

use iamlint_core::{FileId, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file = SourceFile::new(FileId(0), "template.yaml", text.as_ref());
    let parsed = iamlint_cfn::parse_template(&file, &iamlint_cfn::Options::default());
    if let Some(stack) = parsed.stack {
        let selection = iamlint_rules::Selection::new(&[], &[]).expect("all rules");
        let _ = iamlint_rules::check_stack(&stack, &selection);
    }
});
