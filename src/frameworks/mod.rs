//! Control catalogs of the frameworks policies map to: IDs and short titles only.
//!
//! - NIST SP 800-53 Rev. 5 (public domain, from NIST's OSCAL content);
//! - ISO/IEC 17799:2005 (IDs and titles are facts; the standard is © ISO/IEC — no control text);
//! - COBIT 4.1 (IDs and titles; © ISACA/ITGI — no control text);
//! - AWS Foundational Security Best Practices (the Security Hub standard): control IDs, AWS's
//!   short titles and severities. Which policy implements which control lives in the policies
//!   (`controls.aws-fsbp`), not here.
//!
//! Provenance and licence notes are in the comment header of each TSV file beside this module.

use std::collections::HashMap;
use std::sync::OnceLock;

/// One control of a framework catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub id: String,
    pub title: String,
    /// Family (NIST), category (ISO), process (COBIT) as "CODE Title"; service (FSBP).
    pub group: String,
    /// Withdrawn (NIST) or retired (FSBP): no policy may map to it, and it does not count.
    pub withdrawn: bool,
}

/// A framework's catalog.
#[derive(Debug)]
pub struct Framework {
    pub id: &'static str,
    pub name: &'static str,
    /// What the framework calls a control it no longer has ("withdrawn", "retired").
    pub withdrawn_word: &'static str,
    pub controls: Vec<Control>,
    /// Index of each control in `controls` by ID: compiling the catalog looks up some 3,000
    /// IDs, which a scan of NIST's 1,200 controls each made a tenth of the start-up.
    by_id: HashMap<String, usize>,
}

impl Framework {
    fn new(
        id: &'static str,
        name: &'static str,
        withdrawn_word: &'static str,
        controls: Vec<Control>,
    ) -> Framework {
        let mut by_id = HashMap::with_capacity(controls.len());
        for (i, control) in controls.iter().enumerate() {
            // The first of two rows with one ID wins, as a scan of the list would find it.
            by_id.entry(control.id.clone()).or_insert(i);
        }
        Framework {
            id,
            name,
            withdrawn_word,
            controls,
            by_id,
        }
    }

    pub fn control(&self, id: &str) -> Option<&Control> {
        self.controls.get(*self.by_id.get(id)?)
    }
}

const NIST: &str = include_str!("nist-800-53-r5.tsv");
const ISO: &str = include_str!("iso-17799-2005.tsv");
const COBIT: &str = include_str!("cobit-4.1.tsv");
const FSBP: &str = include_str!("aws-fsbp.tsv");

/// Every framework a policy can map to, in report order: the three every policy maps to
/// (`policy::REQUIRED_FRAMEWORKS`), then AWS FSBP for the policies that implement a Security Hub
/// control. (CIS AWS Foundations IDs are accepted by shape only; no CIS list ships, by licence.)
pub fn all() -> &'static [Framework] {
    static FRAMEWORKS: OnceLock<Vec<Framework>> = OnceLock::new();
    FRAMEWORKS.get_or_init(|| {
        vec![
            Framework::new(
                "nist-800-53-r5",
                "NIST SP 800-53 Rev. 5",
                "withdrawn",
                parse(NIST, 2, Some(3)),
            ),
            Framework::new(
                "iso-17799-2005",
                "ISO/IEC 17799:2005",
                "withdrawn",
                parse(ISO, 3, None),
            ),
            Framework::new("cobit-4.1", "COBIT 4.1", "withdrawn", parse(COBIT, 2, None)),
            Framework::new(
                "aws-fsbp",
                "AWS Foundational Security Best Practices",
                "retired",
                parse(FSBP, 2, Some(4)),
            ),
        ]
    })
}

/// A framework by ID.
pub fn get(id: &str) -> Option<&'static Framework> {
    all().iter().find(|f| f.id == id)
}

fn parse(text: &str, group_column: usize, withdrawn_column: Option<usize>) -> Vec<Control> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .skip(1)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            Some(Control {
                id: (*columns.first()?).to_owned(),
                title: (*columns.get(1)?).to_owned(),
                group: columns
                    .get(group_column)
                    .copied()
                    .unwrap_or_default()
                    .to_owned(),
                withdrawn: withdrawn_column
                    .and_then(|c| columns.get(c))
                    .is_some_and(|w| *w == "yes"),
            })
        })
        .collect()
}

/// Checks that `id` is a current control of `framework`. CIS benchmark IDs are checked for
/// shape only (no CIS list ships, by licence).
pub fn check_control(framework: &str, id: &str) -> Result<(), String> {
    if framework.starts_with("cis-aws-") {
        let ok = !id.is_empty()
            && id
                .split('.')
                .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "`{id}` is not a CIS recommendation number (such as 2.1.4)"
            ))
        };
    }
    let Some(catalog) = get(framework) else {
        return Err(format!("unknown framework `{framework}`"));
    };
    match catalog.control(id) {
        Some(control) if control.withdrawn => Err(format!(
            "{} {id} ({}) is {}; map to the control that replaced it",
            catalog.name, control.title, catalog.withdrawn_word
        )),
        Some(_) => Ok(()),
        None => Err(format!("`{id}` is not a control of {}", catalog.name)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogs_have_the_documented_sizes() {
        let sizes: Vec<(&str, usize)> = all().iter().map(|f| (f.id, f.controls.len())).collect();
        assert_eq!(
            sizes,
            vec![
                ("nist-800-53-r5", 1193),
                ("iso-17799-2005", 133),
                ("cobit-4.1", 216),
                ("aws-fsbp", 338)
            ]
        );
    }

    #[test]
    fn fsbp_catalog_keeps_retired_controls_out() {
        let fsbp = get("aws-fsbp")
            .map(|f| &f.controls)
            .cloned()
            .unwrap_or_default();
        let retired: Vec<&str> = fsbp
            .iter()
            .filter(|c| c.withdrawn)
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(retired, ["ECS.1"]);
        assert_eq!(
            fsbp.iter()
                .find(|c| c.id == "ECS.17")
                .map(|c| c.group.as_str()),
            Some("ECS")
        );
        assert!(check_control("aws-fsbp", "EC2.3").is_ok());
        assert!(check_control("aws-fsbp", "ECS.20").is_ok());
        let retired = check_control("aws-fsbp", "ECS.1").unwrap_err();
        assert!(retired.contains("is retired"), "{retired}");
        let unknown = check_control("aws-fsbp", "EC2.999").unwrap_err();
        assert_eq!(
            unknown,
            "`EC2.999` is not a control of AWS Foundational Security Best Practices"
        );
        // IDs are case-sensitive strings, spelt as AWS spells them (`Autoscaling.5`).
        assert!(check_control("aws-fsbp", "Autoscaling.5").is_ok());
        assert!(check_control("aws-fsbp", "ec2.3").is_err());
    }

    #[test]
    fn the_index_finds_what_a_scan_of_the_list_finds() {
        for framework in all() {
            for control in &framework.controls {
                let scanned = framework.controls.iter().find(|c| c.id == control.id);
                assert_eq!(framework.control(&control.id), scanned, "{}", control.id);
            }
            assert_eq!(framework.control("no-such-control"), None);
        }
    }

    #[test]
    fn control_ids_are_checked() {
        assert!(check_control("nist-800-53-r5", "SC-28(1)").is_ok());
        assert!(check_control("nist-800-53-r5", "SC-99").is_err());
        assert!(check_control("iso-17799-2005", "10.10.1").is_ok());
        assert!(check_control("cobit-4.1", "DS5.10").is_ok());
        assert!(check_control("cis-aws-3.0", "2.1.4").is_ok());
        assert!(check_control("cis-aws-3.0", "two").is_err());
        let withdrawn = all()
            .iter()
            .flat_map(|f| f.controls.iter())
            .find(|c| c.withdrawn)
            .map(|c| c.id.clone())
            .unwrap_or_default();
        assert!(
            check_control("nist-800-53-r5", &withdrawn)
                .unwrap_err()
                .contains("withdrawn")
        );
    }
}
