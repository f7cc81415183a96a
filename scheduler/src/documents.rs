//! Documents attached to a meeting (agenda, logistics note): which files are accepted and what
//! they are called. The rules, in the order they are checked:
//!
//! 1. the file is not empty, and with the meeting's other documents not larger than
//!    [`MAX_BYTES`] in all (every document goes with every invitation, see [`check`]);
//! 2. its name, once sanitised ([`sanitise_filename`]), is not empty;
//! 3. its extension is one of PDF, DOCX, ODT, XLSX or TXT;
//! 4. its first bytes are what that extension promises (a browser's or a client's declared
//!    content type is never trusted): `%PDF-` for a PDF, a ZIP archive holding `word/` or `xl/`
//!    for DOCX and XLSX, a ZIP whose first entry declares the OpenDocument text type for ODT,
//!    UTF-8 without NUL for text.
//!
//! The content type stored and sent is then the extension's, never the one declared.

use unicode_normalization::UnicodeNormalization as _;

/// The most a meeting's documents may weigh together: an agenda and a logistics note, not a
/// video. They all travel with every invitation, and base64 adds a third, so 7 MB of files make
/// about 9.5 MB of mail: under the 10 MB that many mail servers still accept. Above it, a
/// delegation's server refuses the invitation for good.
pub const MAX_BYTES: usize = 7 * 1024 * 1024;

/// The longest file name kept, in characters (the extension is kept whole).
pub const MAX_NAME_CHARS: usize = 120;

/// A kind of document accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentType {
    Pdf,
    Docx,
    Odt,
    Xlsx,
    Text,
}

impl DocumentType {
    /// Every accepted kind, in the order the upload form lists them.
    pub const ALL: [Self; 5] = [Self::Pdf, Self::Docx, Self::Odt, Self::Xlsx, Self::Text];

    /// The MIME type stored, served and mailed.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Pdf => "application/pdf",
            Self::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            Self::Odt => "application/vnd.oasis.opendocument.text",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Text => "text/plain; charset=utf-8",
        }
    }

    /// The file extension, without the dot.
    #[must_use]
    pub const fn extension(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Docx => "docx",
            Self::Odt => "odt",
            Self::Xlsx => "xlsx",
            Self::Text => "txt",
        }
    }

    fn from_extension(extension: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.extension().eq_ignore_ascii_case(extension))
    }

    /// Whether `bytes` look like this kind of file.
    fn matches(self, bytes: &[u8]) -> bool {
        const ZIP: &[u8] = b"PK\x03\x04";
        let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|window| window == needle);
        match self {
            Self::Pdf => bytes.starts_with(b"%PDF-"),
            Self::Docx => bytes.starts_with(ZIP) && contains(b"word/"),
            Self::Xlsx => bytes.starts_with(ZIP) && contains(b"xl/"),
            // OpenDocument's first entry is an uncompressed `mimetype` file: its name starts at
            // byte 30 of the archive and its content follows the 8-byte name.
            Self::Odt => {
                bytes.starts_with(ZIP)
                    && bytes.get(30..38) == Some(b"mimetype")
                    && bytes.get(38..).is_some_and(|rest| rest.starts_with(b"application/vnd.oasis.opendocument.text"))
            }
            Self::Text => !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok(),
        }
    }
}

/// Why a document is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("the file is empty")]
    Empty,
    #[error("the file is larger than {} MB", MAX_BYTES / (1024 * 1024))]
    TooLarge,
    /// With the documents already attached the invitation would be too heavy; `room` bytes are
    /// left.
    #[error(
        "the meeting's documents may weigh {} MB in all, as they go with every invitation; {} left",
        MAX_BYTES / (1024 * 1024),
        in_words(*room)
    )]
    NoRoomLeft { room: usize },
    #[error("the file needs a name ending in .pdf, .docx, .odt, .xlsx or .txt")]
    NoName,
    #[error("only PDF, DOCX, ODT, XLSX and TXT files can be attached, not “{0}”")]
    UnknownType(String),
    #[error("the file is called .{} but its content is not a {} file", .0.extension(), .0.extension().to_uppercase())]
    ContentMismatch(DocumentType),
}

/// A document that passed the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub filename: String,
    pub kind: DocumentType,
}

/// A size as people read it: "850 KB", "2.5 MB".
fn in_words(bytes: usize) -> String {
    const MB: usize = 1024 * 1024;
    if bytes >= MB { format!("{}.{} MB", bytes / MB, bytes % MB * 10 / MB) } else { format!("{} KB", bytes / 1024) }
}

/// Checks a document called `filename` (as the browser sent it) with content `bytes`, for a
/// meeting whose documents already weigh `attached` bytes.
///
/// # Errors
/// The first rule (see the module's documentation) the file breaks.
pub fn check(filename: &str, bytes: &[u8], attached: usize) -> Result<Accepted, Refusal> {
    if bytes.is_empty() {
        return Err(Refusal::Empty);
    }
    if bytes.len() > MAX_BYTES {
        return Err(Refusal::TooLarge);
    }
    if attached.saturating_add(bytes.len()) > MAX_BYTES {
        return Err(Refusal::NoRoomLeft { room: MAX_BYTES.saturating_sub(attached) });
    }
    let filename = sanitise_filename(filename).ok_or(Refusal::NoName)?;
    let (_, extension) = filename.rsplit_once('.').ok_or(Refusal::NoName)?;
    let kind = DocumentType::from_extension(extension).ok_or_else(|| Refusal::UnknownType(extension.to_owned()))?;
    if !kind.matches(bytes) {
        return Err(Refusal::ContentMismatch(kind));
    }
    Ok(Accepted { filename, kind })
}

/// A file name safe in a URL path segment, a `Content-Disposition` header and a mail part: the
/// last component of whatever path a browser sent, NFC, every character other than letters,
/// digits, `-`, `_`, `.`, `(`, `)` and spaces replaced by `_`, runs of spaces and `_` collapsed,
/// no leading dots, at most [`MAX_NAME_CHARS`] characters (the extension kept). `None` when
/// nothing is left.
#[must_use]
pub fn sanitise_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name = String::new();
    for c in last.nfc() {
        let c = if c.is_alphanumeric() || matches!(c, '-' | '.' | '(' | ')') {
            c
        } else if c == ' ' && !name.ends_with([' ', '_']) {
            ' '
        } else if !name.ends_with([' ', '_']) {
            '_'
        } else {
            continue;
        };
        name.push(c);
    }
    let name = name.trim_start_matches(['.', ' ', '_']).trim_end_matches([' ', '_', '.']);
    let (stem, extension) = match name.rsplit_once('.') {
        Some((stem, extension)) if !stem.is_empty() && extension.chars().count() <= 8 => (stem, Some(extension)),
        _ => (name, None),
    };
    let room = MAX_NAME_CHARS.saturating_sub(extension.map_or(0, |extension| extension.chars().count() + 1));
    let stem: String = stem.chars().take(room).collect();
    let stem = stem.trim_end_matches([' ', '_', '.']);
    if stem.is_empty() {
        return None;
    }
    Some(match extension {
        Some(extension) => format!("{stem}.{extension}"),
        None => stem.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n";

    #[test]
    fn a_pdf_is_accepted_under_its_own_type() {
        let accepted = check("Agenda.pdf", PDF, 0).unwrap();
        assert_eq!(accepted, Accepted { filename: "Agenda.pdf".into(), kind: DocumentType::Pdf });
        assert_eq!(accepted.kind.content_type(), "application/pdf");
    }

    #[test]
    fn the_rules_are_checked_in_order() {
        assert_eq!(check("agenda.pdf", b"", 0), Err(Refusal::Empty));
        assert_eq!(check("agenda.pdf", &vec![b'%'; MAX_BYTES + 1], 0), Err(Refusal::TooLarge));
        // Together with what is attached already: the room left, in words.
        let attached = MAX_BYTES - 1024 * 1024 - 512 * 1024;
        let refused = check("logistics.pdf", &[PDF, &vec![b' '; 2 * 1024 * 1024]].concat(), attached);
        assert_eq!(refused, Err(Refusal::NoRoomLeft { room: 1024 * 1024 + 512 * 1024 }));
        assert!(refused.unwrap_err().to_string().ends_with("; 1.5 MB left"));
        assert!(check("agenda.pdf", PDF, MAX_BYTES - PDF.len()).is_ok());
        assert_eq!(check("///", PDF, 0), Err(Refusal::NoName));
        assert_eq!(check("run.exe", PDF, 0), Err(Refusal::UnknownType("exe".into())));
        assert_eq!(check("agenda", PDF, 0), Err(Refusal::NoName));
        assert_eq!(check("agenda.pdf", b"MZ\x90\x00", 0), Err(Refusal::ContentMismatch(DocumentType::Pdf)));
        assert_eq!(check("notes.txt", b"a\0b", 0), Err(Refusal::ContentMismatch(DocumentType::Text)));
        assert_eq!(check("notes.docx", PDF, 0), Err(Refusal::ContentMismatch(DocumentType::Docx)));
    }

    #[test]
    fn office_files_are_recognised_by_their_archive() {
        let docx = b"PK\x03\x04....[Content_Types].xml....word/document.xml";
        assert_eq!(check("note.DOCX", docx, 0).unwrap().kind, DocumentType::Docx);
        assert_eq!(check("list.xlsx", b"PK\x03\x04....xl/workbook.xml", 0).unwrap().kind, DocumentType::Xlsx);
        let mut odt = b"PK\x03\x04".to_vec();
        odt.resize(30, 0);
        odt.extend_from_slice(b"mimetypeapplication/vnd.oasis.opendocument.text");
        assert_eq!(check("note.odt", &odt, 0).unwrap().kind, DocumentType::Odt);
        assert_eq!(check("note.odt", docx, 0), Err(Refusal::ContentMismatch(DocumentType::Odt)));
        assert_eq!(check("Logistik.txt", "Anreise: Flughafen Wien".as_bytes(), 0).unwrap().kind, DocumentType::Text);
    }

    #[test]
    fn names_lose_paths_and_awkward_characters() {
        assert_eq!(sanitise_filename("C:\\Users\\anna\\Agenda 2027.pdf").as_deref(), Some("Agenda 2027.pdf"));
        assert_eq!(sanitise_filename("../../etc/passwd").as_deref(), Some("passwd"));
        assert_eq!(sanitise_filename("a\"b;\r\nc.pdf").as_deref(), Some("a_b_c.pdf"));
        assert_eq!(sanitise_filename("Ordre du jour – Amman.pdf").as_deref(), Some("Ordre du jour Amman.pdf"));
        assert_eq!(sanitise_filename(".hidden.txt").as_deref(), Some("hidden.txt"));
        assert_eq!(sanitise_filename("Jürgen.pdf").as_deref(), Some("Jürgen.pdf"));
        assert_eq!(sanitise_filename("…"), None);
        let long = format!("{}.pdf", "x".repeat(500));
        let kept = sanitise_filename(&long).unwrap();
        assert_eq!(kept.chars().count(), MAX_NAME_CHARS);
        assert!(kept.ends_with("x.pdf"));
    }

    proptest! {
        /// Whatever a browser sends, the kept name is short, has no path, quote or control
        /// character, and sanitising it again changes nothing.
        #[test]
        fn sanitised_names_are_safe_and_stable(raw in "\\PC{0,300}") {
            if let Some(name) = sanitise_filename(&raw) {
                prop_assert!(!name.is_empty() && name.chars().count() <= MAX_NAME_CHARS);
                prop_assert!(!name.contains(['/', '\\', '"', ';']) && !name.chars().any(char::is_control));
                prop_assert!(!name.starts_with('.'));
                prop_assert_eq!(sanitise_filename(&name), Some(name.clone()));
            }
        }
    }
}
