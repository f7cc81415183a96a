//! The input policy for every text field people type: what is accepted, what is refused and why.
//!
//! Every value goes through the same steps, in this order:
//! 1. Unicode normalised to NFC (so "é" typed as `e` + combining accent equals the precomposed
//!    one in comparisons, uniqueness checks and exports); a multi-line field's CRLF (what a
//!    browser sends for a `<textarea>`) becomes LF first.
//! 2. Trimmed of surrounding white space (Unicode's `White_Space`, so a trailing NEL or LINE
//!    SEPARATOR from a paste disappears rather than being refused).
//! 3. Refused when empty, if the field is required ([`Rule::Empty`]).
//! 4. Refused when it contains a forbidden character ([`Rule::ControlCharacter`]):
//!    - every control character (Unicode's `Cc`: NUL, TAB, CR, LF, ESC, DEL, NEL U+0085 …),
//!      except LF in a multi-line field;
//!    - LINE and PARAGRAPH SEPARATOR (U+2028, U+2029): line breaks by another name, which
//!      iCalendar, CSV and mail headers do not expect;
//!    - the bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): they open a
//!      scope that reorders everything after them, so a name can make the text that follows it
//!      on a page or in a list read backwards ("Trojan Source").
//!
//!    LEFT-TO-RIGHT MARK, RIGHT-TO-LEFT MARK and ARABIC LETTER MARK (U+200E, U+200F, U+061C) are
//!    allowed: they are single invisible marks with no scope (they cannot leak onto the text
//!    after the field), and Arabic and Hebrew names next to Latin text or digits need them to
//!    display in the right order. ZERO WIDTH JOINER / NON-JOINER stay allowed for emoji and
//!    Persian.
//! 5. Refused when longer than the field's maximum, counted in characters after NFC
//!    ([`Rule::TooLong`]):
//!
//! | kind | maximum | lines |
//! | --- | --- | --- |
//! | [`Kind::PersonName`] (a contact, an attendee, an official, an account's display name) | 200 | one |
//! | [`Kind::Title`] (a meeting's title) | 300 | one |
//! | [`Kind::Email`] | 254 (RFC 5321's path limit) | one |
//! | [`Kind::Function`] (an attendee's function) | 200 | one |
//! | [`Kind::Place`] (venue, room, city, host, country) | 200 | one |
//! | [`Kind::Organisation`] (an official's organisation) | 200 | one |
//! | [`Kind::Username`] | 100 | one |
//! | [`Kind::Label`] (an API token's label) | 200 | one |
//! | [`Kind::Code`] (body, State, role, language, zone codes) | 64 | one |
//! | [`Kind::FreeText`] (notes, messages) | 5,000 | many (LF) |
//!
//! E-mail addresses then follow [`email`]: one `@`, a local part of at most 64 characters, a
//! domain with a dot, no spaces, brackets, quotes or commas; lower-cased, since Plenary compares
//! and deduplicates addresses as lower case.
//!
//! Rows stored before this policy are brought in line by [`repair`], which never refuses.
//! [`Csv`] is the one CSV writer every export uses; each of its cells goes through [`csv_cell`],
//! which defuses spreadsheet formulas.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

/// What a field holds; decides its maximum length and whether it may span lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    PersonName,
    Title,
    Email,
    Function,
    Place,
    Organisation,
    Username,
    Label,
    Code,
    FreeText,
}

impl Kind {
    /// The longest accepted value, in characters after NFC.
    #[must_use]
    pub const fn max_chars(self) -> usize {
        match self {
            Self::Title => 300,
            Self::Email => 254,
            Self::Username => 100,
            Self::Code => 64,
            Self::FreeText => 5_000,
            Self::PersonName | Self::Function | Self::Place | Self::Organisation | Self::Label => 200,
        }
    }

    /// Whether LF is allowed (every other control character never is).
    #[must_use]
    pub const fn multi_line(self) -> bool {
        matches!(self, Self::FreeText)
    }
}

/// Which rule a value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Required, but empty after trimming.
    Empty,
    /// Contains a forbidden character: a control character, a line or paragraph separator, or a
    /// bidi embedding, override or isolate.
    ControlCharacter(char),
    /// Longer than the kind's maximum.
    TooLong { max: usize },
    /// Not an e-mail address Plenary can send to.
    InvalidEmail,
}

impl Rule {
    /// The rule's machine-readable name, as the API's `details.rule`.
    #[must_use]
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::ControlCharacter(_) => "control_character",
            Self::TooLong { .. } => "too_long",
            Self::InvalidEmail => "invalid_email",
        }
    }
}

/// A refused value: the field it was given for and the rule it broke. `Display` is a sentence
/// for people ("name must be on one line: it contains U+000A LINE FEED").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextError {
    pub field: String,
    pub rule: Rule,
}

impl TextError {
    /// What is wrong, without the field's name ("must be on one line: it contains U+000A LINE
    /// FEED", "this is not an e-mail address …"), for a message shown next to the field.
    #[must_use]
    pub fn reason(&self) -> String {
        match self.rule {
            Rule::InvalidEmail => format!("this {}", self.predicate()),
            _ => self.predicate(),
        }
    }

    /// What is wrong, as the rest of a sentence that starts with the field's name.
    fn predicate(&self) -> String {
        match &self.rule {
            Rule::Empty => "must not be empty".to_owned(),
            Rule::ControlCharacter(c) if is_line_break(*c) => {
                format!("must be on one line: it contains {}", describe(*c))
            }
            Rule::ControlCharacter(c) if is_bidi_control(*c) => {
                format!("must not contain {}, which reverses the text after it", describe(*c))
            }
            Rule::ControlCharacter(c) => format!("must not contain {}, a control character", describe(*c)),
            Rule::TooLong { max } => format!("must be at most {max} characters long"),
            Rule::InvalidEmail => "is not an e-mail address Plenary can send to".to_owned(),
        }
    }
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.predicate())
    }
}

impl std::error::Error for TextError {}

/// `U+000A LINE FEED`: the code point and, for the characters this policy refuses, its name.
#[must_use]
pub fn describe(c: char) -> String {
    const C0: [&str; 32] = [
        "NULL",
        "START OF HEADING",
        "START OF TEXT",
        "END OF TEXT",
        "END OF TRANSMISSION",
        "ENQUIRY",
        "ACKNOWLEDGE",
        "BELL",
        "BACKSPACE",
        "CHARACTER TABULATION",
        "LINE FEED",
        "LINE TABULATION",
        "FORM FEED",
        "CARRIAGE RETURN",
        "SHIFT OUT",
        "SHIFT IN",
        "DATA LINK ESCAPE",
        "DEVICE CONTROL ONE",
        "DEVICE CONTROL TWO",
        "DEVICE CONTROL THREE",
        "DEVICE CONTROL FOUR",
        "NEGATIVE ACKNOWLEDGE",
        "SYNCHRONOUS IDLE",
        "END OF TRANSMISSION BLOCK",
        "CANCEL",
        "END OF MEDIUM",
        "SUBSTITUTE",
        "ESCAPE",
        "INFORMATION SEPARATOR FOUR",
        "INFORMATION SEPARATOR THREE",
        "INFORMATION SEPARATOR TWO",
        "INFORMATION SEPARATOR ONE",
    ];
    let name = match c {
        '\u{0}'..='\u{1f}' => C0[c as usize],
        '\u{7f}' => "DELETE",
        '\u{85}' => "NEXT LINE",
        '\u{80}'..='\u{9f}' => "C1 CONTROL",
        '\u{2028}' => "LINE SEPARATOR",
        '\u{2029}' => "PARAGRAPH SEPARATOR",
        '\u{202a}' => "LEFT-TO-RIGHT EMBEDDING",
        '\u{202b}' => "RIGHT-TO-LEFT EMBEDDING",
        '\u{202c}' => "POP DIRECTIONAL FORMATTING",
        '\u{202d}' => "LEFT-TO-RIGHT OVERRIDE",
        '\u{202e}' => "RIGHT-TO-LEFT OVERRIDE",
        '\u{2066}' => "LEFT-TO-RIGHT ISOLATE",
        '\u{2067}' => "RIGHT-TO-LEFT ISOLATE",
        '\u{2068}' => "FIRST STRONG ISOLATE",
        '\u{2069}' => "POP DIRECTIONAL ISOLATE",
        _ => return format!("U+{:04X}", u32::from(c)),
    };
    format!("U+{:04X} {name}", u32::from(c))
}

fn is_line_break(c: char) -> bool {
    matches!(c, '\n' | '\r' | '\u{b}' | '\u{c}' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Whether `c` may not appear in a field of `kind`.
#[must_use]
pub fn is_forbidden(c: char, kind: Kind) -> bool {
    if c == '\n' && kind.multi_line() {
        return false;
    }
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_bidi_control(c)
}

/// NFC, CRLF → LF for multi-line kinds, trimmed.
fn normalise(input: &str, kind: Kind) -> String {
    let text: String =
        if kind.multi_line() { input.replace("\r\n", "\n").nfc().collect() } else { input.nfc().collect() };
    text.trim().to_owned()
}

/// A required field of `kind`: normalised and checked (see the module doc).
///
/// # Errors
/// [`TextError`] naming `field` and the first rule broken.
pub fn required(field: &str, kind: Kind, input: &str) -> Result<String, TextError> {
    let text = normalise(input, kind);
    if text.is_empty() {
        return Err(TextError { field: field.to_owned(), rule: Rule::Empty });
    }
    check(field, kind, text)
}

/// An optional field of `kind`: absent or empty after trimming is `None`.
///
/// # Errors
/// [`TextError`] naming `field` and the first rule broken.
pub fn optional(field: &str, kind: Kind, input: Option<&str>) -> Result<Option<String>, TextError> {
    let Some(input) = input else { return Ok(None) };
    let text = normalise(input, kind);
    if text.is_empty() { Ok(None) } else { check(field, kind, text).map(Some) }
}

fn check(field: &str, kind: Kind, text: String) -> Result<String, TextError> {
    if let Some(c) = text.chars().find(|&c| is_forbidden(c, kind)) {
        return Err(TextError { field: field.to_owned(), rule: Rule::ControlCharacter(c) });
    }
    if text.chars().count() > kind.max_chars() {
        return Err(TextError { field: field.to_owned(), rule: Rule::TooLong { max: kind.max_chars() } });
    }
    Ok(text)
}

/// An e-mail address: the single-line policy with [`Kind::Email`], then a plausible address
/// (one `@`, a local part of 1–64 characters, a domain with a dot and no empty label, none of
/// the characters that need quoting: space, `<>()[],;:"\`), lower-cased.
///
/// # Errors
/// [`TextError`] naming `field`: empty, control character, too long or `invalid_email`.
pub fn email(field: &str, input: &str) -> Result<String, TextError> {
    let address = required(field, Kind::Email, input)?.to_lowercase();
    let plausible = !address.chars().any(|c| c.is_whitespace() || "<>()[],;:\"\\".contains(c))
        && address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.chars().count() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && domain.split('.').all(|label| !label.is_empty())
        });
    if plausible { Ok(address) } else { Err(TextError { field: field.to_owned(), rule: Rule::InvalidEmail }) }
}

/// Brings a value stored before this policy in line with it, never refusing: NFC, each run of
/// forbidden characters (with the spaces around it) becomes one space, trimmed, and a value
/// over the maximum is cut to fit with "…" as its last character. May return an empty string.
#[must_use]
pub fn repair(kind: Kind, input: &str) -> String {
    let normalised: String =
        if kind.multi_line() { input.replace("\r\n", "\n").nfc().collect() } else { input.nfc().collect() };
    let mut out = String::with_capacity(normalised.len());
    let mut replacing = false;
    for c in normalised.chars() {
        if is_forbidden(c, kind) {
            while out.ends_with(|c: char| c.is_whitespace()) {
                out.pop();
            }
            out.push(' ');
            replacing = true;
        } else if !(replacing && c.is_whitespace()) {
            out.push(c);
            replacing = false;
        }
    }
    let text = out.trim();
    if text.chars().count() <= kind.max_chars() {
        return text.to_owned();
    }
    let cut: String = text.chars().take(kind.max_chars() - 1).collect();
    format!("{}…", cut.trim_end())
}

/// One CSV cell (RFC 4180), as [`Csv`] writes every cell: text a spreadsheet would read as a
/// formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return, or their full-width
/// forms, which some spreadsheets also evaluate) is prefixed with an apostrophe (OWASP's advice);
/// a plain negative number stays as it is; a cell with a comma, quote or line break is quoted,
/// quotes doubled.
#[must_use]
pub fn csv_cell(text: &str) -> String {
    let formula = text.starts_with(['=', '+', '-', '@', '\t', '\r', '\u{ff1d}', '\u{ff0b}', '\u{ff0d}', '\u{ff20}']);
    let defused = if formula && !is_plain_number(text) { format!("'{text}") } else { text.to_owned() };
    if defused.contains([',', '"', '\r', '\n']) { format!("\"{}\"", defused.replace('"', "\"\"")) } else { defused }
}

/// A CSV document (RFC 4180: comma-separated, CRLF line ends), the one writer every export
/// uses: each cell, the header's too, goes through [`csv_cell`], so no export can forget to
/// defuse a formula or quote a comma.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv {
    text: String,
}

impl Csv {
    /// A document that starts with the header line `columns`.
    #[must_use]
    pub fn with_header(columns: &[&str]) -> Self {
        let mut csv = Self { text: String::new() };
        csv.row(columns);
        csv
    }

    /// Adds one line of `cells`.
    pub fn row<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (index, cell) in cells.into_iter().enumerate() {
            if index > 0 {
                self.text.push(',');
            }
            self.text.push_str(&csv_cell(cell.as_ref()));
        }
        self.text.push_str("\r\n");
    }

    /// The document's text.
    #[must_use]
    pub fn finish(self) -> String {
        self.text
    }
}

/// `-12` or `-1.500`: a negative number (a seat's coordinate) is data, not a formula.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    !whole.is_empty() && !fraction.is_empty() && (whole.chars().chain(fraction.chars())).all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_issue_repro_is_refused_naming_the_field_and_character() {
        let error = required("name", Kind::PersonName, "Eve\nX").unwrap_err();
        assert_eq!(error.rule, Rule::ControlCharacter('\n'));
        assert_eq!(error.to_string(), "name must be on one line: it contains U+000A LINE FEED");
    }

    #[test]
    fn a_reason_reads_on_its_own_next_to_the_field() {
        let error = email("email", "not an address").unwrap_err();
        assert_eq!(error.to_string(), "email is not an e-mail address Plenary can send to");
        assert_eq!(error.reason(), "this is not an e-mail address Plenary can send to");
        let error = required("name", Kind::PersonName, " ").unwrap_err();
        assert_eq!(
            (error.to_string().as_str(), error.reason().as_str()),
            ("name must not be empty", "must not be empty")
        );
    }

    #[test]
    fn every_forbidden_character_is_refused_in_single_line_fields() {
        for c in [
            '\0', '\t', '\r', '\n', '\u{1b}', '\u{7f}', '\u{85}', '\u{9b}', '\u{2028}', '\u{2029}', '\u{202e}',
            '\u{2066}',
        ] {
            let error = required("title", Kind::Title, &format!("a{c}b")).unwrap_err();
            assert_eq!(error.rule, Rule::ControlCharacter(c), "{c:?}");
            assert!(error.to_string().starts_with("title must"), "{error}");
        }
        assert_eq!(
            required("name", Kind::PersonName, "a\u{1b}b").unwrap_err().to_string(),
            "name must not contain U+001B ESCAPE, a control character"
        );
    }

    #[test]
    fn direction_marks_and_joiners_are_allowed() {
        for text in ["\u{5e9}\u{5dc}\u{5d5}\u{5dd}\u{200f} 2", "a\u{200e}b", "\u{644}\u{61c}1", "👩\u{200d}💻"] {
            assert_eq!(required("name", Kind::PersonName, text).unwrap(), text);
        }
    }

    #[test]
    fn multi_line_fields_keep_lf_and_turn_crlf_into_lf() {
        assert_eq!(required("text", Kind::FreeText, "one\r\ntwo\nthree").unwrap(), "one\ntwo\nthree");
        assert_eq!(required("text", Kind::FreeText, "a\rb").unwrap_err().rule, Rule::ControlCharacter('\r'));
        assert_eq!(required("text", Kind::FreeText, "a\tb").unwrap_err().rule, Rule::ControlCharacter('\t'));
    }

    #[test]
    fn normalised_trimmed_empty_and_too_long() {
        assert_eq!(required("name", Kind::PersonName, "  Jose\u{301}  ").unwrap(), "José");
        assert_eq!(required("name", Kind::PersonName, " \u{85} ").unwrap_err().rule, Rule::Empty);
        assert_eq!(optional("city", Kind::Place, Some("  ")).unwrap(), None);
        assert_eq!(required("name", Kind::PersonName, &"é".repeat(200)).unwrap().chars().count(), 200);
        let error = required("name", Kind::PersonName, &"é".repeat(201)).unwrap_err();
        assert_eq!(error.rule, Rule::TooLong { max: 200 });
        assert_eq!(error.to_string(), "name must be at most 200 characters long");
        assert_eq!(required("title", Kind::Title, &"x".repeat(301)).unwrap_err().rule, Rule::TooLong { max: 300 });
    }

    #[test]
    fn one_e_mail_rule() {
        assert_eq!(email("email", " Anna.Muster@BMEIA.gv.at ").unwrap(), "anna.muster@bmeia.gv.at");
        for bad in ["anna", "anna@", "@x.org", "anna@localhost", "a b@x.org", "a@x..org", "a@b@x.org", "a<b>@x.org"] {
            assert_eq!(email("email", bad).unwrap_err().rule, Rule::InvalidEmail, "{bad:?}");
        }
        assert_eq!(email("email", "a\r\nBcc: x@y.org").unwrap_err().rule, Rule::ControlCharacter('\r'));
        assert_eq!(email("email", "").unwrap_err().rule, Rule::Empty);
        let long = format!("{}@x.org", "a".repeat(65));
        assert_eq!(email("email", &long).unwrap_err().rule, Rule::InvalidEmail);
    }

    #[test]
    fn repair_replaces_collapses_and_cuts() {
        assert_eq!(repair(Kind::PersonName, "Eve \n\u{1b} X "), "Eve X");
        assert_eq!(repair(Kind::PersonName, "\u{202e}evE"), "evE");
        assert_eq!(repair(Kind::PersonName, "Jose\u{301}"), "José");
        let cut = repair(Kind::PersonName, &"x".repeat(300));
        assert_eq!(cut.chars().count(), 200);
        assert!(cut.ends_with('…'));
        assert_eq!(repair(Kind::FreeText, "a\r\nb"), "a\nb");
    }

    #[test]
    fn a_csv_document_has_a_header_crlf_lines_and_defused_cells() {
        let mut csv = Csv::with_header(&["name", "note"]);
        csv.row(["Smith, John", "=1+1"]);
        csv.row([String::from("-1.5"), String::new()]);
        assert_eq!(csv.finish(), "name,note\r\n\"Smith, John\",'=1+1\r\n-1.5,\r\n");
    }

    #[test]
    fn csv_cells_are_defused_and_quoted() {
        assert_eq!(csv_cell("Smith, John"), "\"Smith, John\"");
        assert_eq!(csv_cell("=HYPERLINK()"), "'=HYPERLINK()");
        assert_eq!(csv_cell("=cmd|' /C calc'!A0"), "'=cmd|' /C calc'!A0");
        assert_eq!(csv_cell("\u{ff1d}1+1"), "'\u{ff1d}1+1");
        assert_eq!(csv_cell("-1.500"), "-1.500");
        assert_eq!(csv_cell("-1+1"), "'-1+1");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
    }

    fn hostile() -> impl Strategy<Value = String> {
        let pieces = prop_oneof![
            "[a-zA-Z ]{0,8}",
            Just("\u{0}".to_owned()),
            Just("\r\n".to_owned()),
            Just("\u{85}".to_owned()),
            Just("\u{2028}".to_owned()),
            Just("\u{202e}".to_owned()),
            Just("e\u{301}".to_owned()),
            Just("日本語 عربي Кириллица 👩‍💻".to_owned()),
            Just("<script>=cmd|' /C calc'!A0".to_owned()),
            "\\PC{0,300}",
        ];
        proptest::collection::vec(pieces, 0..6).prop_map(|parts| parts.concat())
    }

    proptest! {
        /// Whatever is accepted satisfies the policy and is a fixed point of it; whatever is
        /// refused names the field; a repair always yields an accepted value (or nothing).
        #[test]
        fn accepted_values_satisfy_the_policy(input in hostile()) {
            for kind in [Kind::PersonName, Kind::Title, Kind::FreeText] {
                match required("f", kind, &input) {
                    Ok(text) => {
                        prop_assert!(!text.is_empty() && text.chars().count() <= kind.max_chars());
                        prop_assert!(!text.chars().any(|c| is_forbidden(c, kind)));
                        prop_assert_eq!(required("f", kind, &text), Ok(text.clone()));
                        prop_assert_eq!(repair(kind, &text), text);
                    }
                    Err(error) => prop_assert_eq!(error.field, "f"),
                }
                let repaired = repair(kind, &input);
                prop_assert!(repaired.is_empty() || required("f", kind, &repaired) == Ok(repaired.clone()));
                let cell = csv_cell(&input);
                prop_assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']));
            }
        }
    }
}
