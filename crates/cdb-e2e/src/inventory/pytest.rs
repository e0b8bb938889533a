//! Reading `pytest --collect-only -q`: one node id per line (`tests/e2e/test_flow.py::test_x`),
//! then a blank line and `N tests collected in 0.01s` (`M/N tests collected (K deselected)` with
//! `-m`, `no tests collected …` when none match). The node ids are checked against that count,
//! so that a change of pytest's output format is an error, not a silently short inventory.
//! Collection errors (`ERROR tests/… `, `Interrupted: 1 error during collection`) are errors too:
//! an inventory that silently leaves out a broken test file would hide it.

use crate::errors::E2eError;

fn selected_count(line: &str) -> Option<usize> {
    let first = line.split_whitespace().next()?;
    if first == "no" {
        return Some(0);
    }
    first.split('/').next()?.parse().ok()
}

/// The node ids in the output of `pytest --collect-only -q` (stdout), for the suite named in
/// `origin`.
pub fn parse_collect_only(origin: &str, text: &str) -> Result<Vec<String>, E2eError> {
    let err = |line: usize, message: String| E2eError::Inventory {
        origin: origin.into(),
        line,
        message,
    };
    let errors: Vec<(usize, &str)> = text
        .lines()
        .enumerate()
        .filter(|(_, l)| {
            l.starts_with("ERROR ")
                || (l.contains("Interrupted:") && l.contains("during collection"))
        })
        .collect();
    if let Some((first, _)) = errors.first() {
        let what: Vec<&str> = errors.iter().map(|(_, l)| l.trim()).collect();
        return Err(err(
            first + 1,
            format!(
                "pytest could not collect every test: {}; run the collection by hand to see why",
                what.join("; ")
            ),
        ));
    }
    let mut ids = Vec::new();
    let mut expected = None;
    let mut in_section = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        // `=== warnings summary ===` and similar sections come after the node ids.
        if line.starts_with('=') {
            in_section = !line.contains(" collected ") && !line.contains(" selected ");
            if let Some(n) = line
                .trim_matches(|c: char| c == '=' || c.is_whitespace())
                .split_once(" collected")
                .and_then(|(head, _)| selected_count(head))
            {
                expected = Some(n);
            }
            continue;
        }
        if line.contains(" collected") && (line.contains(" in ") || line.contains("deselected")) {
            expected = selected_count(line.trim());
            in_section = false;
            continue;
        }
        if in_section || line.starts_with(' ') || line.starts_with("-- ") {
            continue;
        }
        if line.contains("::") {
            ids.push(line.trim_end().to_string());
        } else if ids.is_empty() && expected.is_none() && line.contains(".py: ") {
            return Err(err(
                i + 1,
                "this looks like `pytest -qq` output (counts per file); collect with `-q`".into(),
            ));
        }
    }
    match expected {
        Some(n) if n != ids.len() => Err(err(
            text.lines().count(),
            format!(
                "pytest reports {n} collected tests but {} node ids were read",
                ids.len()
            ),
        )),
        _ => Ok(ids),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &str = include_str!("../../testdata/pytest/collect-all.txt");
    const SLOW: &str = include_str!("../../testdata/pytest/collect-m-slow.txt");
    const CRITICAL: &str = include_str!("../../testdata/pytest/collect-m-critical.txt");
    const ERROR: &str = include_str!("../../testdata/pytest/collect-error.txt");

    #[test]
    fn node_ids_from_real_pytest_output() {
        let ids = parse_collect_only("smoke", ALL).unwrap();
        assert_eq!(ids.len(), 7);
        assert_eq!(ids[0], "tests/e2e/test_flow.py::test_signal_reaches_fill");
        assert_eq!(
            ids[2],
            "tests/e2e/test_flow.py::TestHealth::test_health[risk-manager]"
        );
        assert_eq!(
            parse_collect_only("smoke", SLOW).unwrap(),
            ["tests/e2e/test_flow.py::test_crash_recovery"]
        );
        assert!(parse_collect_only("smoke", CRITICAL).unwrap().is_empty());
    }

    #[test]
    fn collection_errors_are_errors() {
        let e = parse_collect_only("smoke", ERROR).unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("smoke:"), "{text}");
        assert!(text.contains("ERROR tests/test_broken.py"), "{text}");
    }

    #[test]
    fn a_count_that_disagrees_is_an_error() {
        let e = parse_collect_only("s", "a.py::t\n\n2 tests collected in 0.01s\n").unwrap_err();
        assert!(e.to_string().contains("2 collected tests but 1"), "{e}");
        let e = parse_collect_only("s", "tests/test_a.py: 3\n\n3 tests collected in 0.01s\n")
            .unwrap_err();
        assert!(e.to_string().contains("-qq"), "{e}");
    }
}
