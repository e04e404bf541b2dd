//! The syntax layer: YAML and JSON into spanned values.

#![allow(clippy::unwrap_used)]

use iamlint_cfn::syntax::{MAX_ALIAS_NODES, MAX_DEPTH, ParseError, parse_json, parse_yaml};
use iamlint_core::{FileId, SourceFile, Value, ValueKind};

fn file(text: &str) -> SourceFile {
    SourceFile::new(FileId(7), "t.yaml", text)
}

fn yaml(text: &str) -> Value {
    let f = file(text);
    match parse_yaml(&f) {
        Ok(v) => v,
        Err(e) => panic!("{text:?} failed: {e:?}"),
    }
}

fn json(text: &str) -> Value {
    let f = file(text);
    match parse_json(&f) {
        Ok(v) => v,
        Err(e) => panic!("{text:?} failed: {e:?}"),
    }
}

/// The error's message and the one-based line it points at.
fn yaml_err(text: &str) -> (String, u32) {
    let f = file(text);
    match parse_yaml(&f) {
        Ok(v) => panic!("{text:?} parsed: {v:?}"),
        Err(e) => (e.message.clone(), f.line_col(e.span.start).line),
    }
}

fn json_err(text: &str) -> (String, u32) {
    let f = file(text);
    match parse_json(&f) {
        Ok(v) => panic!("{text:?} parsed: {v:?}"),
        Err(e) => (e.message.clone(), f.line_col(e.span.start).line),
    }
}

/// A compact rendering of a value (no spans) for structural assertions.
fn shape(v: &Value) -> String {
    match &v.kind {
        ValueKind::Null => "null".into(),
        ValueKind::Bool(b) => b.to_string(),
        ValueKind::Number(n) => format!("#{n}"),
        ValueKind::String(s) => format!("{s:?}"),
        ValueKind::List(items) => format!(
            "[{}]",
            items.iter().map(shape).collect::<Vec<_>>().join(", ")
        ),
        ValueKind::Map(m) => format!(
            "{{{}}}",
            m.entries
                .iter()
                .map(|(k, v)| format!("{}: {}", k.name, shape(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => format!("{other:?}"),
    }
}

fn snippet<'a>(f: &'a SourceFile, v: &Value) -> &'a str {
    f.snippet(v.span)
}

// ---------- YAML: values and spans ----------

#[test]
fn yaml_keys_and_values_carry_byte_spans() {
    let text =
        "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n    Properties:\n      DelaySeconds: 5\n";
    let f = file(text);
    let root = parse_yaml(&f).unwrap();
    assert_eq!(root.span.file, FileId(7));
    let queue = root.get_path(&["Resources", "Queue"]).unwrap();
    let (key, ty) = queue.as_map().unwrap().get_entry("Type").unwrap();
    assert_eq!(f.snippet(key.span), "Type");
    assert_eq!(f.line_col(key.span.start).line, 3);
    assert_eq!(snippet(&f, ty), "AWS::SQS::Queue");
    let delay = queue.get_path(&["Properties", "DelaySeconds"]).unwrap();
    assert_eq!(delay.kind, ValueKind::Number("5".into()));
    assert_eq!(f.line_col(delay.span.start).line, 5);
    assert_eq!(snippet(&f, delay), "5");
}

#[test]
fn yaml_flow_collections_span_their_brackets() {
    let text = "a: [1, {b: c}]\n";
    let f = file(text);
    let root = parse_yaml(&f).unwrap();
    let a = root.get("a").unwrap();
    assert_eq!(snippet(&f, a), "[1, {b: c}]");
    assert_eq!(snippet(&f, &a.as_list().unwrap()[1]), "{b: c}");
}

#[test]
fn yaml_block_collections_end_at_their_last_child() {
    let text = "a:\n  - x\n  - y\n\n# trailing comment\nb: 1\n";
    let f = file(text);
    let root = parse_yaml(&f).unwrap();
    assert_eq!(snippet(&f, root.get("a").unwrap()), "- x\n  - y");
}

#[test]
fn yaml_plain_scalars_follow_the_core_schema() {
    let v = yaml(
        "n1: null\nn2: Null\nn3: NULL\nn4: ~\nn5:\nb1: true\nb2: False\nb3: TRUE\n\
         s1: yes\ns2: off\ni1: 42\ni2: -7\ni3: +3\nh: 0x1F\no: 0o17\nf1: 1.50\nf2: 1e3\nf3: .5\n\
         f4: -.inf\nf5: .NaN\nv: 2012-10-17\nver: 1.2.3\nz: 007\nu: 1_000\n",
    );
    assert_eq!(
        shape(&v),
        "{n1: null, n2: null, n3: null, n4: null, n5: null, b1: true, b2: false, b3: true, \
         s1: \"yes\", s2: \"off\", i1: #42, i2: #-7, i3: #+3, h: #0x1F, o: #0o17, f1: #1.50, \
         f2: #1e3, f3: #.5, f4: #-.inf, f5: #.NaN, v: \"2012-10-17\", ver: \"1.2.3\", z: #007, \
         u: \"1_000\"}"
    );
}

#[test]
fn yaml_quoted_and_block_scalars_are_strings() {
    let v = yaml("a: 'true'\nb: \"12\"\nc: |\n  null\nd: >-\n  1\n");
    assert_eq!(
        shape(&v),
        "{a: \"true\", b: \"12\", c: \"null\\n\", d: \"1\"}"
    );
}

#[test]
fn yaml_non_string_keys_become_their_text() {
    let v = yaml("80: http\ntrue: yes\n~: nothing\n1.0: x\n");
    let keys: Vec<_> = v.as_map().unwrap().keys().collect();
    assert_eq!(keys, ["80", "true", "~", "1.0"]);
}

#[test]
fn yaml_standard_tags_are_honoured() {
    let v = yaml(
        "a: !!str 12\nb: !!int 12\nc: !!float 1.5\nd: !!bool true\ne: !!null ''\nf: !!binary aGk=\n\
         g: !!map {x: 1}\nh: !!seq [1]\ni: ! 12\n",
    );
    assert_eq!(
        shape(&v),
        "{a: \"12\", b: #12, c: #1.5, d: true, e: null, f: \"aGk=\", g: {x: #1}, h: [#1], i: \"12\"}"
    );
    assert_eq!(yaml_err("a: !!int abc\n").1, 1);
    assert_eq!(yaml_err("a:\n  b: !!seq {x: 1}\n").1, 2);
    assert_eq!(yaml_err("a: !!bogus 1\n").0, "unknown tag !!bogus");
}

// ---------- YAML: CloudFormation short forms ----------

#[test]
fn yaml_ref_and_condition_keep_their_names() {
    let text = "a: !Ref Queue\nb: !Condition IsProd\n";
    let f = file(text);
    let v = parse_yaml(&f).unwrap();
    assert_eq!(
        shape(&v),
        "{a: {Ref: \"Queue\"}, b: {Condition: \"IsProd\"}}"
    );
    let a = v.get("a").unwrap();
    let (key, inner) = a.as_map().unwrap().get_entry("Ref").unwrap();
    assert_eq!(f.snippet(key.span), "!Ref");
    assert_eq!(snippet(&f, inner), "Queue");
    assert_eq!(snippet(&f, a), "!Ref Queue");
}

#[test]
fn yaml_every_short_form_becomes_its_long_form() {
    let names = [
        ("Sub", "Fn::Sub"),
        ("Join", "Fn::Join"),
        ("If", "Fn::If"),
        ("Select", "Fn::Select"),
        ("Split", "Fn::Split"),
        ("FindInMap", "Fn::FindInMap"),
        ("ImportValue", "Fn::ImportValue"),
        ("Base64", "Fn::Base64"),
        ("Cidr", "Fn::Cidr"),
        ("GetAZs", "Fn::GetAZs"),
        ("Equals", "Fn::Equals"),
        ("And", "Fn::And"),
        ("Or", "Fn::Or"),
        ("Not", "Fn::Not"),
        ("Transform", "Fn::Transform"),
        ("Length", "Fn::Length"),
        ("ToJsonString", "Fn::ToJsonString"),
        ("ForEach", "Fn::ForEach"),
        ("GetAtt", "Fn::GetAtt"),
    ];
    for (short, long) in names {
        let scalar = yaml(&format!("v: !{short} x\n"));
        assert_eq!(
            shape(&scalar),
            format!("{{v: {{{long}: \"x\"}}}}"),
            "{short}"
        );
        let flow = yaml(&format!("v: !{short} [a, b]\n"));
        assert_eq!(
            shape(&flow),
            format!("{{v: {{{long}: [\"a\", \"b\"]}}}}"),
            "{short}"
        );
        let block = yaml(&format!("v: !{short}\n  - a\n  - k: b\n"));
        assert_eq!(
            shape(&block),
            format!("{{v: {{{long}: [\"a\", {{k: \"b\"}}]}}}}"),
            "{short}"
        );
        let map = yaml(&format!("v: !{short}\n  k: b\n"));
        assert_eq!(
            shape(&map),
            format!("{{v: {{{long}: {{k: \"b\"}}}}}}"),
            "{short}"
        );
    }
}

#[test]
fn yaml_get_att_keeps_both_forms() {
    let v = yaml("a: !GetAtt Queue.Arn\nb: !GetAtt [Queue, Arn]\n");
    assert_eq!(
        shape(&v),
        "{a: {Fn::GetAtt: \"Queue.Arn\"}, b: {Fn::GetAtt: [\"Queue\", \"Arn\"]}}"
    );
}

#[test]
fn yaml_sub_on_scalar_and_sequence() {
    let text =
        "a: !Sub 'arn:${AWS::Partition}:s3:::${B}/*'\nb: !Sub\n  - '${X}-y'\n  - X: !Ref Z\n";
    let f = file(text);
    let v = parse_yaml(&f).unwrap();
    assert_eq!(
        shape(&v),
        "{a: {Fn::Sub: \"arn:${AWS::Partition}:s3:::${B}/*\"}, b: {Fn::Sub: [\"${X}-y\", {X: {Ref: \"Z\"}}]}}"
    );
    let (key, _) = v
        .get("b")
        .unwrap()
        .as_map()
        .unwrap()
        .get_entry("Fn::Sub")
        .unwrap();
    assert_eq!(f.snippet(key.span), "!Sub");
    assert_eq!(f.line_col(key.span.start).line, 2);
}

#[test]
fn yaml_nested_short_forms() {
    let v = yaml("a: !If [C, !Join ['', [!Ref A, x]], !Ref AWS::NoValue]\n");
    assert_eq!(
        shape(&v),
        "{a: {Fn::If: [\"C\", {Fn::Join: [\"\", [{Ref: \"A\"}, \"x\"]]}, {Ref: \"AWS::NoValue\"}]}}"
    );
}

#[test]
fn yaml_short_form_with_anchor_on_either_side() {
    let v = yaml("a: &x !Ref Q\nb: !Ref &y R\nc: *x\nd: *y\n");
    assert_eq!(
        shape(&v),
        "{a: {Ref: \"Q\"}, b: {Ref: \"R\"}, c: {Ref: \"Q\"}, d: {Ref: \"R\"}}"
    );
}

#[test]
fn yaml_unknown_tags_are_errors_at_the_tag() {
    let text = "Resources:\n  A:\n    Value: !Sbu '${X}'\n";
    let f = file(text);
    let e = parse_yaml(&f).unwrap_err();
    assert_eq!(e.message, "unknown tag !Sbu");
    assert_eq!(f.snippet(e.span), "!Sbu");
    assert_eq!(f.line_col(e.span.start).line, 3);
    assert_eq!(
        yaml_err("a: !python/object x\n").0,
        "unknown tag !python/object"
    );
}

/// Rain's directives (`rain pkg`) are read as their long form, a single-key map, which the
/// template layer treats as unknown: <https://aws-cloudformation.github.io/rain/rain_pkg.html>.
#[test]
fn yaml_rain_directives_become_single_key_maps() {
    let text = "Code:\n  ZipFile: !Rain::Embed handler.py\nM: !Rain::Module\n  Source: ./m.yaml\nC: !Rain::Constant Prefix\nS: !Rain::S3 {Path: x}\n";
    let v = yaml(text);
    assert_eq!(
        shape(&v),
        r#"{Code: {ZipFile: {Rain::Embed: "handler.py"}}, M: {Rain::Module: {Source: "./m.yaml"}}, C: {Rain::Constant: "Prefix"}, S: {Rain::S3: {Path: "x"}}}"#
    );
    let f = file(text);
    let embed = v.get_path(&["Code", "ZipFile"]).unwrap();
    let (key, _) = embed.as_map().unwrap().iter().next().unwrap();
    assert_eq!(f.snippet(key.span), "!Rain::Embed");
    assert_eq!(yaml_err("a: !Rain::Nope x\n").0, "unknown tag !Rain::Nope");
}

#[test]
fn yaml_short_form_as_key_is_an_error() {
    assert_eq!(yaml_err("a:\n  !Ref X: 1\n").1, 2);
}

// ---------- YAML: maps, anchors, merges ----------

#[test]
fn yaml_duplicate_keys_keep_the_last_value() {
    // CloudFormation accepts a key written twice and deploys the last value.
    let text = "Resources:\n  A:\n    Type: x\n  B: 1\n  A: 2\n";
    let f = file(text);
    let v = parse_yaml(&f).unwrap();
    let resources = v.get("Resources").unwrap().as_map().unwrap();
    assert_eq!(resources.keys().collect::<Vec<_>>(), vec!["B", "A"]);
    let (key, value) = resources.get_entry("A").unwrap();
    assert_eq!(value.kind, ValueKind::Number("2".into()));
    assert_eq!(f.line_col(key.span.start).line, 5);
    let v = yaml("{a: 1, 'a': 2}");
    assert_eq!(v.get("a").unwrap().kind, ValueKind::Number("2".into()));
}

#[test]
fn yaml_aliases_are_copied() {
    let v = yaml("base: &b\n  x: 1\n  y: [2]\nuse: *b\nlist: [*b, *b]\n");
    assert_eq!(
        shape(&v),
        "{base: {x: #1, y: [#2]}, use: {x: #1, y: [#2]}, list: [{x: #1, y: [#2]}, {x: #1, y: [#2]}]}"
    );
}

#[test]
fn yaml_merge_keys_bring_entries_in_and_explicit_keys_win() {
    let v = yaml(
        "a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  x: 0\n  <<: *a\nd:\n  <<: [*b, *a]\n  w: 5\n",
    );
    assert_eq!(
        shape(&v),
        "{a: {x: #1, y: #2}, b: {y: #3, z: #4}, c: {x: #0, y: #2}, d: {y: #3, z: #4, x: #1, w: #5}}"
    );
    assert_eq!(
        yaml_err("a:\n  <<: 1\n").0,
        "the merge key `<<` needs a map or a list of maps"
    );
    // A quoted `<<` is an ordinary key.
    assert_eq!(shape(&yaml("'<<': 1\n")), "{<<: #1}");
}

#[test]
fn yaml_undefined_alias_is_an_error() {
    let (message, line) = yaml_err("a: 1\nb: *nope\n");
    assert!(message.contains("unknown anchor"), "{message}");
    assert_eq!(line, 2);
}

#[test]
fn yaml_alias_bomb_errors() {
    let mut text = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let refs = vec![format!("*a{}", i - 1); 9].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    let (message, _) = yaml_err(&text);
    assert_eq!(
        message,
        format!("YAML aliases expand to more than {MAX_ALIAS_NODES} nodes")
    );
}

#[test]
fn yaml_modest_alias_use_is_fine() {
    let mut text = String::from("a0: &a0 [x, x, x]\n");
    for i in 1..6 {
        let refs = vec![format!("*a{}", i - 1); 3].join(", ");
        text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
    }
    yaml(&text);
}

// ---------- YAML: documents, depth, errors ----------

#[test]
fn yaml_empty_and_comment_only_files_are_null() {
    for text in ["", "# only a comment\n", "---\n", "--- \n...\n", "\u{feff}"] {
        assert_eq!(yaml(text).kind, ValueKind::Null, "{text:?}");
    }
}

#[test]
fn yaml_second_document_is_an_error() {
    let (message, line) = yaml_err("a: 1\n---\nb: 2\n");
    assert!(message.contains("single YAML document"), "{message}");
    assert_eq!(line, 2);
}

#[test]
fn yaml_bom_is_skipped_and_offsets_stay_bytes() {
    let text = "\u{feff}a: x\n";
    let f = file(text);
    let v = parse_yaml(&f).unwrap();
    let (k, x) = v.as_map().unwrap().get_entry("a").unwrap();
    assert_eq!(f.snippet(k.span), "a");
    assert_eq!(snippet(&f, x), "x");
}

#[test]
fn yaml_non_ascii_offsets_are_bytes() {
    let text = "Description: café ☕ 😀\nTags: [é, 😀😀]\nName: !Sub 'x-${AWS::Region}'\n";
    let f = file(text);
    let v = parse_yaml(&f).unwrap();
    assert_eq!(snippet(&f, v.get("Description").unwrap()), "café ☕ 😀");
    let tags = v.get("Tags").unwrap().as_list().unwrap();
    assert_eq!(snippet(&f, &tags[1]), "😀😀");
    let (key, _) = v.as_map().unwrap().get_entry("Name").unwrap();
    assert_eq!(f.snippet(key.span), "Name");
    let sub = v.get("Name").unwrap().as_map().unwrap();
    assert_eq!(f.snippet(sub.entries[0].0.span), "!Sub");
}

#[test]
fn yaml_non_ascii_before_an_error_keeps_the_column() {
    let text = "a: é😀é😀\nb: 😀\nc: [x\n";
    let f = file(text);
    let e = parse_yaml(&f).unwrap_err();
    assert!(e.span.start as usize <= text.len());
    assert!(text.is_char_boundary(e.span.start as usize));
    assert_eq!(f.line_col(e.span.start).line, 4);

    let text = "é😀: ok\nb: : bad\n";
    let f = file(text);
    let e = parse_yaml(&f).unwrap_err();
    let lc = f.line_col(e.span.start);
    assert_eq!((lc.line, lc.column), (2, 4));
}

#[test]
fn yaml_malformed_inputs_report_their_line() {
    let cases = [
        ("a: 1\nb: [1, 2\nc: 3\n", 3),
        ("a: 1\nb: 'unclosed\n", 2),
        ("a:\n  b: 1\n c: 2\n", 3),
        ("a:\n\tb: 1\n", 2),
        ("- a\nb: 1\n", 2),
        ("a: {x: 1\n", 2),
        ("a: b: c\n", 1),
    ];
    for (text, line) in cases {
        assert_eq!(yaml_err(text).1, line, "{text:?}");
    }
}

/// saphyr rejects flow collections and multi-line quoted scalars continued at the enclosing
/// key's column, which libyaml (PyYAML, cfn-lint) and CloudFormation accept and real templates
/// use. The reader indents such constructs in a copy (their leading whitespace carries no
/// meaning) and maps positions back: the values are what libyaml reads, the spans point into
/// the file as written.
#[test]
fn yaml_flow_and_quoted_continuations_at_the_key_column_are_read_as_libyaml_does() {
    let bracket_at_key = "R:\n  Props:\n    Actions: [\n      \"s3:GetObject\",\n    ]\n";
    let value = yaml(bracket_at_key);
    assert_eq!(
        shape(&value),
        r#"{R: {Props: {Actions: ["s3:GetObject"]}}}"#
    );
    let brace_at_key = "R:\n  Statements: [{\n      \"Effect\": \"Allow\"\n  }]\nS: 1\n";
    let value = yaml(brace_at_key);
    assert_eq!(
        shape(&value),
        r#"{R: {Statements: [{Effect: "Allow"}]}, S: #1}"#
    );
    // Spans after the repaired lines are those of the file as written.
    let s = value.get("S").unwrap();
    assert_eq!(
        &brace_at_key[s.span.start as usize..s.span.end as usize],
        "1"
    );
    let quoted = "R:\n  Doc: !Sub '{\n      \"a\": 1\n  }'\n  Next: x\n";
    let value = yaml(quoted);
    let doc = value.get("R").unwrap().get("Doc").unwrap();
    assert_eq!(shape(doc), r#"{Fn::Sub: "{ \"a\": 1 }"}"#);
    let next = value.get("R").unwrap().get("Next").unwrap();
    assert_eq!(
        &quoted[next.span.start as usize..next.span.end as usize],
        "x"
    );
    // Several under-indented constructs, one nested in another, in one file.
    let nested = "A: {x: [1,\n2,\n  3], y: 'p\nq'}\nB: [\n{z: 1}\n]\n";
    assert_eq!(
        shape(&yaml(nested)),
        r#"{A: {x: [#1, #2, #3], y: "p q"}, B: [{z: #1}]}"#
    );
}

/// Under-indentation in block context is structure, not layout: still an error, at its line.
#[test]
fn yaml_block_indentation_errors_are_not_repaired() {
    let (message, line) = yaml_err("a:\n  b: 1\n c: 2\n");
    assert!(!message.is_empty());
    assert_eq!(line, 3);
}

fn deep_block_map(n: usize) -> String {
    (0..n).map(|i| format!("{}a:\n", " ".repeat(i))).collect()
}

#[test]
fn yaml_deep_nesting_is_an_error_not_a_crash() {
    let depth = format!("nesting deeper than {MAX_DEPTH} levels");
    let cases = [
        "[".repeat(10_000),
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}1{}", "{a: ".repeat(10_000), "}".repeat(10_000)),
        "!Not [".repeat(10_000),
        deep_block_map(10_000),
        (0..10_000)
            .map(|i| format!("{}-\n", " ".repeat(i)))
            .collect(),
    ];
    for text in cases {
        assert_eq!(yaml_err(&text).0, depth, "{}", &text[..20]);
    }
}

#[test]
fn yaml_depth_just_under_the_cap_is_fine() {
    let v = yaml(&deep_block_map(MAX_DEPTH));
    let mut d = 0;
    let mut cur = &v;
    while let Some(next) = cur.get("a") {
        d += 1;
        cur = next;
    }
    assert_eq!(d, MAX_DEPTH);
    yaml_err(&deep_block_map(MAX_DEPTH + 2));
    // Tag wrappers count.
    let wrapped = format!(
        "{}x{}",
        "!Not [".repeat(MAX_DEPTH / 2),
        "]".repeat(MAX_DEPTH / 2)
    );
    yaml(&wrapped);
    let too_deep = format!(
        "{}x{}",
        "!Not [".repeat(MAX_DEPTH / 2 + 1),
        "]".repeat(MAX_DEPTH / 2 + 1)
    );
    yaml_err(&too_deep);
}

#[test]
fn yaml_aliases_cannot_exceed_the_depth_cap() {
    let half = MAX_DEPTH / 2 + 5;
    let nested = format!("{}x{}", "[".repeat(half), "]".repeat(half));
    let text = format!(
        "a: &d {nested}\nb: {}*d{}\n",
        "[".repeat(half),
        "]".repeat(half)
    );
    assert!(yaml_err(&text).0.starts_with("nesting deeper"));
}

#[test]
fn yaml_long_lines_and_large_files() {
    let line = format!("a: {}\n", "x".repeat(1_000_000));
    assert_eq!(
        yaml(&line).get("a").unwrap().as_str().unwrap().len(),
        1_000_000
    );
    let mut big = String::from("Resources:\n");
    for i in 0..20_000 {
        big.push_str(&format!(
            "  R{i}:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub 'é-${{AWS::StackName}}-{i}'\n"
        ));
    }
    let f = file(&big);
    let v = parse_yaml(&f).unwrap();
    let last = v.get_path(&["Resources", "R19999", "Type"]).unwrap();
    assert_eq!(snippet(&f, last), "AWS::SNS::Topic");
    assert_eq!(f.line_col(last.span.start).line, 20_000 * 4 - 1);
}

// ---------- JSON ----------

#[test]
fn json_values_and_spans() {
    let text = "{\n  \"Resources\": {\n    \"Q\": {\"Type\": \"AWS::SQS::Queue\", \"N\": -1.5e3, \"B\": true, \"Z\": null, \"L\": [1, \"x\"]}\n  }\n}\n";
    let f = file(text);
    let v = parse_json(&f).unwrap();
    assert_eq!(
        shape(&v),
        "{Resources: {Q: {Type: \"AWS::SQS::Queue\", N: #-1.5e3, B: true, Z: null, L: [#1, \"x\"]}}}"
    );
    let q = v.get_path(&["Resources", "Q"]).unwrap();
    let (k, ty) = q.as_map().unwrap().get_entry("Type").unwrap();
    assert_eq!(f.snippet(k.span), "\"Type\"");
    assert_eq!(f.line_col(k.span.start).line, 3);
    assert_eq!(snippet(&f, ty), "\"AWS::SQS::Queue\"");
    assert_eq!(snippet(&f, q.get("L").unwrap()), "[1, \"x\"]");
    assert!(snippet(&f, &v).starts_with('{') && snippet(&f, &v).ends_with('}'));
}

#[test]
fn json_numbers_are_kept_as_written() {
    let v = json("[0, -0, 1.50, 1E+2, 12345678901234567890123]");
    assert_eq!(
        shape(&v),
        "[#0, #-0, #1.50, #1E+2, #12345678901234567890123]"
    );
}

#[test]
fn json_string_escapes() {
    let v = json(r#"["a\"b\\c\/d\b\f\n\r\t", "\u00e9\u2603", "\ud83d\ude00", "é😀"]"#);
    let items: Vec<_> = v
        .as_list()
        .unwrap()
        .iter()
        .map(|i| i.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(items, ["a\"b\\c/d\u{8}\u{c}\n\r\t", "é☃", "😀", "é😀"]);
}

#[test]
fn json_bom_is_skipped() {
    let text = "\u{feff}{\"a\": 1}";
    let f = file(text);
    let v = parse_json(&f).unwrap();
    assert_eq!(f.snippet(v.as_map().unwrap().entries[0].0.span), "\"a\"");
}

#[test]
fn json_errors_point_at_the_right_place() {
    let cases: &[(&str, &str, u32)] = &[
        ("{\"a\": 1\n\"b\": 2}", "expected `,` or `}`", 2),
        ("[1\n2]", "expected `,` or `]`", 2),
        ("{\"a\": 1,\n", "unexpected end of file", 2),
        ("{\"a\"\n 1}", "expected `:`", 2),
        (
            "{\"a\": 1}\n\n{}",
            "unexpected content after the JSON document",
            3,
        ),
        ("{\"a\":\n \"x\\q\"}", "invalid escape `\\q`", 2),
        ("{\"a\":\n \"x\ty\"}", "control character", 2),
        ("{\"a\": \"\\ud800\"}", "unpaired surrogate", 1),
        ("{\"a\": \"\\udc00\"}", "unpaired surrogate", 1),
        ("{\"a\": \"\\ud800\\u0041\"}", "unpaired surrogate", 1),
        ("{\"a\": \"\\u12\"}", "invalid `\\u` escape", 1),
        ("{\"a\": [1,]}", "trailing comma", 1),
        ("{\"a\": 1,}", "trailing comma", 1),
        ("{a: 1}", "expected a string key", 1),
        ("{\"a\":\n  01}", "leading zero", 2),
        ("{\"a\": 1.}", "expected a digit after `.`", 1),
        ("{\"a\": -}", "invalid number", 1),
        ("{\"a\": tru}", "expected a value", 1),
        ("{\"a\": \"x", "unexpected end of file", 1),
        ("", "unexpected end of file", 1),
        ("{\"é😀\": 1,\n\n  \"b\" 2}", "expected `:`", 3),
    ];
    for (text, message, line) in cases {
        let (got, got_line) = json_err(text);
        assert!(got.contains(message), "{text:?}: {got}");
        assert_eq!(got_line, *line, "{text:?}: {got}");
    }
}

#[test]
fn json_deep_nesting_is_an_error_not_a_crash() {
    let depth = format!("nesting deeper than {MAX_DEPTH} levels");
    assert_eq!(json_err(&"[".repeat(10_000)).0, depth);
    assert_eq!(json_err(&"{\"a\":".repeat(10_000)).0, depth);
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    json(&ok);
    let over = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
    assert_eq!(json_err(&over).0, depth);
}

#[test]
fn json_large_file() {
    let mut big = String::from("{\"Resources\": {");
    for i in 0..50_000 {
        if i > 0 {
            big.push(',');
        }
        big.push_str(&format!(
            "\n \"R{i}\": {{\"Type\": \"AWS::SNS::Topic\", \"Properties\": {{\"TopicName\": \"é-{i}\"}}}}"
        ));
    }
    big.push_str("}}");
    let v = json(&big);
    assert_eq!(v.get("Resources").unwrap().as_map().unwrap().len(), 50_000);
}

// ---------- Never panic ----------

const NASTY: &[&str] = &[
    "",
    "\u{feff}",
    "# c",
    "---",
    "--- !Ref",
    "...",
    ": :",
    "- - - -",
    "? ? ?",
    "'",
    "\"",
    "\"\\",
    "\"\\u",
    "\"\\ud800\"",
    "*undefined",
    "&a",
    "&a [*a]",
    "a: &a\n  b: *a\n",
    "!",
    "!!",
    "!<>",
    "!<tag:yaml.org,2002:str> x",
    "!Ref",
    "!Ref [",
    "{",
    "}",
    "[",
    "]",
    "[}",
    "{]",
    "{\"a\"",
    "{\"a\":",
    "{\"a\":1",
    "{\"a\":1,",
    "%YAML 1.2\n---\na: 1",
    "%TAG ! tag:example.com,2000:\n--- !foo x",
    "a: |\n",
    "a: >\n  \n  \n",
    "<<: *x",
    "<<: [1, 2]",
    "a:\n  <<: {}\n  <<: {}\n",
    "\t",
    "a:\n\t- b",
    "\0",
    "\u{85}\u{2028}",
    "-1e",
    "0x",
    "\\",
    "a: 'it''s'\nb: \"\\x41\\u00e9\\U0001F600\"\n",
];

fn check_no_panic(text: &str) {
    let f = file(text);
    for result in [parse_yaml(&f), parse_json(&f)] {
        match result {
            Ok(v) => assert!(v.span.end as usize <= text.len()),
            Err(ParseError { span, message }) => {
                assert!(!message.is_empty());
                assert!(
                    span.start <= span.end && span.end as usize <= text.len(),
                    "{text:?}"
                );
            }
        }
    }
}

#[test]
fn nasty_inputs_never_panic() {
    for text in NASTY {
        check_no_panic(text);
    }
    check_no_panic(&"x".repeat(1_000_000));
    check_no_panic(&format!("\"{}", "é".repeat(100_000)));
}

/// A cheap deterministic fuzzer (no extra dependency): random strings over the characters that
/// matter to both grammars.
#[test]
fn random_inputs_never_panic() {
    const ALPHABET: &[&str] = &[
        "a", "0", "-", ":", " ", "\n", "  ", "\t", "[", "]", "{", "}", ",", "\"", "'", "\\", "!",
        "!Ref ", "!!str ", "&x ", "*x", "<<", "#", "|", ">", "?", "---", "...", "é", "😀", "\\u",
        "d83d", "null", "true", "1.5e3", "%",
    ];
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..3_000 {
        let len = (next() % 40) as usize;
        let text: String = (0..len)
            .map(|_| ALPHABET[(next() % ALPHABET.len() as u64) as usize])
            .collect();
        check_no_panic(&text);
    }
}

#[test]
fn duplicate_keys_in_large_maps_keep_the_last_value() {
    let mut text: String = (0..100).map(|i| format!("k{i}: {i}\n")).collect();
    text.push_str("k42: again\n");
    let v = yaml(&text);
    assert_eq!(v.as_map().unwrap().len(), 100);
    assert_eq!(v.get("k42").unwrap().as_str(), Some("again"));
    let entries: Vec<String> = (0..100).map(|i| format!("\"k{i}\": {i}")).collect();
    let text = format!("{{{},\n\"k7\": \"last\"}}", entries.join(", "));
    let v = parse_json(&file(&text)).unwrap();
    assert_eq!(v.as_map().unwrap().len(), 100);
    assert_eq!(v.get("k7").unwrap().as_str(), Some("last"));
}

#[test]
fn crlf_line_endings_keep_offsets() {
    let text = "a: 1\r\nb: é\r\nc: !Ref X\r\nd: [1,\r\n";
    let f = file(text);
    let e = parse_yaml(&f).unwrap_err();
    assert_eq!(f.line_col(e.span.start).line, 5);
    let v = yaml("a: 1\r\nb: é\r\nc: !Ref X\r\n");
    let f = file("a: 1\r\nb: é\r\nc: !Ref X\r\n");
    let c = v.get("c").unwrap().get("Ref").unwrap();
    assert_eq!(f.snippet(c.span), "X");
    assert_eq!(f.line_col(c.span.start).line, 3);
}

/// Repairs are bounded: each costs a re-read, so a file with more under-indented constructs
/// than the budget allows is reported, not re-read without end.
#[test]
fn yaml_indentation_repairs_are_bounded() {
    let constructs = |n: usize| -> String { (0..n).map(|i| format!("k{i}: [\n1]\n")).collect() };
    let few = yaml(&constructs(10));
    assert_eq!(few.get("k9").map(shape).as_deref(), Some("[#1]"));
    let (message, _) = yaml_err(&constructs(200));
    assert!(message.contains("indentation"), "{message}");
}

/// A quoted scalar's span is its quotes and what is between them: a comment after it on the
/// same line is not part of it (saphyr ends a single-quoted scalar's span after the blanks
/// and comment that follow it).
#[test]
fn yaml_quoted_scalars_end_at_their_closing_quote() {
    let text =
        "a: 'x y' # note\nb: \"z\"   # other\nc: 'it''s'\nd: [ 'p' , \"q\" ]\ne: plain # c\n";
    let f = file(text);
    let root = parse_yaml(&f).unwrap();
    assert_eq!(snippet(&f, root.get("a").unwrap()), "'x y'");
    assert_eq!(snippet(&f, root.get("b").unwrap()), "\"z\"");
    assert_eq!(snippet(&f, root.get("c").unwrap()), "'it''s'");
    let d = root.get("d").unwrap().as_list().unwrap();
    assert_eq!(snippet(&f, &d[0]), "'p'");
    assert_eq!(snippet(&f, &d[1]), "\"q\"");
    assert_eq!(snippet(&f, root.get("e").unwrap()), "plain");
}
