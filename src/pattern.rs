//! Wildcard patterns for policy IDs, resource addresses, ARNs and IAM actions: `*` matches any
//! run of characters (`/` and `:` included), `?` one character; everything else is literal.
//!
//! Glob crates treat `[`…`]` as a character class, but Terraform addresses carry their instance
//! keys in brackets (`aws_s3_bucket.logs["eu"]`) and IAM and AWS Config use `*` and `?` alone,
//! so this is the matcher both need.

/// A compiled wildcard pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    text: String,
    chars: Vec<char>,
    case_insensitive: bool,
}

impl Pattern {
    pub fn new(text: &str) -> Pattern {
        Pattern {
            text: text.to_owned(),
            chars: text.chars().collect(),
            case_insensitive: false,
        }
    }

    /// A pattern that ignores ASCII case (IAM action names).
    pub fn case_insensitive(text: &str) -> Pattern {
        Pattern {
            case_insensitive: true,
            ..Pattern::new(text)
        }
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Whether the pattern has a wildcard at all.
    pub fn is_literal(&self) -> bool {
        !self.chars.iter().any(|c| matches!(c, '*' | '?'))
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let same =
            |p: char, t: char| p == t || (self.case_insensitive && p.eq_ignore_ascii_case(&t));
        // Greedy match with backtracking to the last star: O(len(p) × len(t)) at worst.
        let (mut p, mut t) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while t < text.len() {
            match (self.chars.get(p), text.get(t)) {
                (Some('*'), _) => {
                    star = Some((p, t));
                    p += 1;
                }
                (Some('?'), Some(_)) => {
                    p += 1;
                    t += 1;
                }
                (Some(&pc), Some(&tc)) if same(pc, tc) => {
                    p += 1;
                    t += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        p = sp + 1;
                        t = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        self.chars
            .get(p..)
            .is_some_and(|rest| rest.iter().all(|&c| c == '*'))
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn stars_and_question_marks() {
        assert!(Pattern::new("aws.s3.*").matches("aws.s3.block-public-access"));
        assert!(!Pattern::new("aws.s3.*").matches("aws.ec2.imdsv2"));
        assert!(Pattern::new("arn:aws:s3:::acme-*-logs").matches("arn:aws:s3:::acme-eu-logs"));
        assert!(Pattern::new(r#"aws_s3_bucket.logs["eu"]"#).matches(r#"aws_s3_bucket.logs["eu"]"#));
        assert!(!Pattern::new(r#"aws_s3_bucket.logs["eu"]"#).matches("aws_s3_bucket.logs[e]"));
        assert!(
            Pattern::new("module.*.aws_db_instance.*").matches("module.prod.aws_db_instance.main")
        );
        assert!(Pattern::new("a?c").matches("abc"));
        assert!(Pattern::new("*").matches(""));
        assert!(!Pattern::new("abc").matches("abcd"));
        assert!(Pattern::case_insensitive("s3:Get*").matches("S3:GETOBJECT"));
        assert!(!Pattern::new("s3:Get*").matches("s3:getobject"));
        assert!(Pattern::new("**a*b").matches("xxaybyb"));
    }
}
