//! Protocol order: French alphabetical order of the protocol names.
//!
//! The OSCE seats and lists delegations by `protocol_sort_key` compared with French collation:
//! accents and case are ignored at the first level ("Bélarus" sorts with "Belgique" by its
//! letters, not by its bytes), then accents decide ties, then case. A full UCA collator
//! (icu_collator) would bring megabytes of data for a list of 68 names whose keys only use Latin
//! letters, spaces, apostrophes and parentheses; canonical decomposition plus these three levels
//! gives the same order on them.

use std::cmp::Ordering;

use unicode_normalization::UnicodeNormalization;

/// The first-level key: letters and digits without accents, lower-cased; spaces and punctuation
/// become a single space, which sorts before every letter (so "Saint-Marin" < "Saint-Siège").
#[must_use]
pub fn primary_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    for c in name.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            key.extend(c.to_lowercase());
        } else if !key.ends_with(' ') && !key.is_empty() {
            key.push(' ');
        }
    }
    key.trim_end().to_owned()
}

/// Compares two protocol names in French collation order.
#[must_use]
pub fn protocol_cmp(a: &str, b: &str) -> Ordering {
    primary_key(a).cmp(&primary_key(b)).then_with(|| secondary_key(a).cmp(&secondary_key(b))).then_with(|| a.cmp(b))
}

/// Second level: the accents, in order, with the base letters folded for case.
fn secondary_key(name: &str) -> String {
    name.nfd().flat_map(char::to_lowercase).collect()
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_ignored_at_the_first_level() {
        assert_eq!(primary_key("Bélarus"), "belarus");
        assert_eq!(protocol_cmp("Bélarus", "Belgique"), Ordering::Less);
        assert_eq!(protocol_cmp("Égypte", "Espagne"), Ordering::Less);
        assert_eq!(protocol_cmp("Grèce", "Grande-Bretagne (Royaume-Uni de)"), Ordering::Greater);
    }

    #[test]
    fn punctuation_separates_words_and_sorts_first() {
        assert_eq!(primary_key("Amérique (États-Unis d')"), "amerique etats unis d");
        assert_eq!(protocol_cmp("Saint-Marin", "Saint-Siège"), Ordering::Less);
        assert_eq!(protocol_cmp("Allemagne", "Amérique (États-Unis d')"), Ordering::Less);
        assert_eq!(protocol_cmp("Amérique (États-Unis d')", "Andorre"), Ordering::Less);
    }

    #[test]
    fn ties_at_the_first_level_are_decided_by_accents_then_case() {
        assert_eq!(protocol_cmp("cote", "côte"), Ordering::Less);
        assert_eq!(protocol_cmp("Cote", "cote"), Ordering::Less);
        assert_eq!(protocol_cmp("Malte", "Malte"), Ordering::Equal);
    }
}
