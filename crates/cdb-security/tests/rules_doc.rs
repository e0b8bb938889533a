//! The rule codes of `audit-images` are a public contract: the table is snapshot-tested, and
//! `docs/security/RULES.md` must list every rule with its default level. Run with
//! `CDB_UPDATE_DOCS=1` to rewrite the page from the table.

use std::path::Path;

fn table() -> String {
    let mut out = String::from("| code | default level | meaning |\n|---|---|---|\n");
    for (code, level, meaning) in cdb_security::rules_table() {
        out.push_str(&format!(
            "| `{code}` | {level} | {} |\n",
            meaning.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn rule_codes_are_a_stable_contract() {
    insta::assert_snapshot!(table());
    let mut codes: Vec<&str> = cdb_security::rules_table()
        .iter()
        .map(|(c, _, _)| *c)
        .collect();
    let n = codes.len();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(n, codes.len(), "a rule code is listed twice");
}

#[test]
fn the_rules_page_lists_every_rule() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/security/RULES.md");
    let page = format!(
        "# `cargo xtask audit-images` rules\n\n\
         Every finding carries one of these codes. The codes are a public contract (CI filters and\n\
         SARIF rule ids use them); a published code keeps its meaning. Levels: **block** fails the\n\
         gate (exit 1), **warn** fails only with `--strict`, **note** is listed only. Change a level\n\
         in `cdb.toml`:\n\n\
         ```toml\n[security.levels]\n\"pin::floating\" = \"block\"   # or warn, note, allow (not reported)\n```\n\n\
         {}\n\
         This page is generated from `cdb_security::rules_table()`; `CDB_UPDATE_DOCS=1 cargo test -p cdb-security --test rules_doc` rewrites it.\n",
        table()
    );
    if std::env::var_os("CDB_UPDATE_DOCS").is_some() {
        std::fs::write(&path, &page).expect("write RULES.md");
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        current, page,
        "docs/security/RULES.md is out of date: run with CDB_UPDATE_DOCS=1"
    );
}
