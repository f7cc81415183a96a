//! The list of participants and the name badges as PDF (A4), drawn with krilla.
//!
//! Names come from every participating State and Partner: accents, Croatian and Serbian
//! letters, Cyrillic. The font is DejaVu Sans, committed in `frontend/fonts` with its licence
//! (the Bitstream Vera licence; DejaVu's changes are public domain): it covers Latin, Greek and
//! Cyrillic completely, is free to embed and redistribute, and is what Debian installs anyway.
//! krilla embeds only the glyphs used, so a list stays small. Text is shaped by rustybuzz
//! (through krilla), so combining marks and ligatures come out as the font intends; the same
//! shaper measures text here, to shrink a long name onto its badge or shorten a cell with "…".

use std::sync::LazyLock;

use krilla::{
    Document,
    color::rgb,
    geom::{PathBuilder, Point, Rect},
    metadata::Metadata,
    num::NormalizedF32,
    page::PageSettings,
    paint::{Fill, Stroke},
    surface::Surface,
    text::{Font, TextDirection},
};
use scheduler::lists::{Badge, StateGroup};

static REGULAR: &[u8] = include_bytes!("../../../frontend/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../frontend/fonts/DejaVuSans-Bold.ttf");

/// A4 in points.
const PAGE_WIDTH: f32 = 595.28;
const PAGE_HEIGHT: f32 = 841.89;
const MILLIMETRE: f32 = 72.0 / 25.4;

/// One weight of the font: what krilla draws with, and the shaper's view of it for measuring.
struct Typeface {
    font: Font,
    face: rustybuzz::Face<'static>,
}

impl Typeface {
    fn load(data: &'static [u8]) -> Self {
        Self {
            font: Font::new(data.into(), 0).expect("DejaVu Sans is a valid font"),
            face: rustybuzz::Face::from_slice(data, 0).expect("DejaVu Sans is a valid font"),
        }
    }

    /// The width of `text` set at `size` points.
    fn width(&self, text: &str, size: f32) -> f32 {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.guess_segment_properties();
        let shaped = rustybuzz::shape(&self.face, &[], buffer);
        let units: i32 = shaped.glyph_positions().iter().map(|position| position.x_advance).sum();
        units as f32 * size / self.face.units_per_em() as f32
    }

    /// `text`, shortened with "…" until it fits in `room` points at `size`.
    fn fitted(&self, text: &str, size: f32, room: f32) -> String {
        if self.width(text, size) <= room {
            return text.to_owned();
        }
        let mut chars: Vec<char> = text.chars().collect();
        while !chars.is_empty() {
            chars.pop();
            let shortened = format!("{}…", chars.iter().collect::<String>().trim_end());
            if self.width(&shortened, size) <= room {
                return shortened;
            }
        }
        String::new()
    }
}

struct Fonts {
    regular: Typeface,
    bold: Typeface,
}

static FONTS: LazyLock<Fonts> =
    LazyLock::new(|| Fonts { regular: Typeface::load(REGULAR), bold: Typeface::load(BOLD) });

/// What a list's first page says above the names.
#[derive(Debug, Clone)]
pub struct Heading {
    /// "List of participants".
    pub kind: String,
    pub title: String,
    pub when: String,
    pub place: String,
}

/// Draws text in one colour and weight.
fn text(surface: &mut Surface<'_>, face: &Typeface, size: f32, grey: u8, at: (f32, f32), line: &str) {
    surface.set_fill(Some(Fill {
        paint: rgb::Color::new(grey, grey, grey).into(),
        opacity: NormalizedF32::ONE,
        rule: krilla::paint::FillRule::default(),
    }));
    surface.draw_text(Point::from_xy(at.0, at.1), face.font.clone(), size, line, false, TextDirection::Auto);
}

fn document(title: &str) -> Document {
    let mut document = Document::new();
    document
        .set_metadata(Metadata::new().title(title.to_owned()).language("en".to_owned()).creator("Plenary".to_owned()));
    document
}

fn finish(document: Document) -> anyhow::Result<Vec<u8>> {
    document.finish().map_err(|error| anyhow::anyhow!("the PDF could not be written: {error:?}"))
}

const MARGIN: f32 = 20.0 * MILLIMETRE;
/// Where the columns of the list of participants start, from the left margin.
const NAME_AT: f32 = 12.0;
const FUNCTION_AT: f32 = 210.0;
const SEAT_AT: f32 = 400.0;
const LINE: f32 = 16.0;

/// The list of participants: the heading, then each State in bold with its people (name,
/// function, seat) below it, over as many pages as it takes, each page numbered.
///
/// # Errors
/// When krilla cannot write the document.
pub fn participants(heading: &Heading, groups: &[StateGroup]) -> anyhow::Result<Vec<u8>> {
    let fonts = &*FONTS;
    let mut document = document(&format!("{} — {}", heading.title, heading.kind));
    let right = PAGE_WIDTH - MARGIN;
    let bottom = PAGE_HEIGHT - MARGIN;
    let mut lines: Vec<Line<'_>> = Vec::new();
    for group in groups {
        lines.push(Line::State(&group.state_name));
        lines.extend(group.people.iter().map(Line::Person));
    }
    let mut page_number = 0;
    let mut remaining = lines.as_slice();
    loop {
        page_number += 1;
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a size"));
        let mut surface = page.surface();
        let mut y = MARGIN;
        if page_number == 1 {
            y += 12.0;
            text(
                &mut surface,
                &fonts.bold,
                18.0,
                0,
                (MARGIN, y),
                &fonts.bold.fitted(&heading.title, 18.0, right - MARGIN),
            );
            y += 20.0;
            text(&mut surface, &fonts.regular, 10.0, 60, (MARGIN, y), &heading.when);
            if !heading.place.is_empty() {
                y += 14.0;
                text(&mut surface, &fonts.regular, 10.0, 60, (MARGIN, y), &heading.place);
            }
            y += 28.0;
            text(&mut surface, &fonts.bold, 14.0, 0, (MARGIN, y), &heading.kind);
            y += 10.0;
            if remaining.is_empty() {
                text(&mut surface, &fonts.regular, 11.0, 0, (MARGIN, y + 20.0), "Nobody is registered yet.");
            }
        }
        while let Some((line, rest)) = remaining.split_first() {
            let needed = match line {
                // A State's name is not left alone at the foot of a page.
                Line::State(_) => 2.0 * LINE + 8.0,
                Line::Person(_) => LINE,
            };
            if y + needed > bottom {
                break;
            }
            match line {
                Line::State(name) => {
                    y += LINE + 8.0;
                    text(
                        &mut surface,
                        &fonts.bold,
                        12.0,
                        0,
                        (MARGIN, y),
                        &fonts.bold.fitted(name, 12.0, right - MARGIN),
                    );
                }
                Line::Person(person) => {
                    y += LINE;
                    let column = |from: f32, to: f32, line: &str| fonts.regular.fitted(line, 10.5, to - from - 8.0);
                    let name = column(NAME_AT, FUNCTION_AT, &person.name);
                    let function = column(FUNCTION_AT, SEAT_AT, &person.function);
                    text(&mut surface, &fonts.regular, 10.5, 0, (MARGIN + NAME_AT, y), &name);
                    text(&mut surface, &fonts.regular, 10.5, 40, (MARGIN + FUNCTION_AT, y), &function);
                    text(&mut surface, &fonts.regular, 10.5, 40, (MARGIN + SEAT_AT, y), person.seat);
                }
            }
            remaining = rest;
        }
        let footer = format!("{} — {} — page {page_number}", heading.title, heading.kind);
        let footer = fonts.regular.fitted(&footer, 8.0, right - MARGIN);
        text(&mut surface, &fonts.regular, 8.0, 100, (MARGIN, PAGE_HEIGHT - MARGIN / 2.0), &footer);
        surface.finish();
        page.finish();
        if remaining.is_empty() {
            break;
        }
    }
    finish(document)
}

enum Line<'a> {
    State(&'a str),
    Person(&'a scheduler::lists::Participant),
}

/// Badges per page: two across, four down.
const BADGE_COLUMNS: usize = 2;
const BADGE_ROWS: usize = 4;
const BADGE_WIDTH: f32 = 95.0 * MILLIMETRE;
const BADGE_HEIGHT: f32 = 65.0 * MILLIMETRE;

/// Name badges, eight to an A4 page (95 × 65 mm, with light cutting lines): the meeting's title
/// at the top, the name large (made smaller when long), the function, and the State's name at
/// the foot.
///
/// # Errors
/// When krilla cannot write the document.
pub fn badges(meeting_title: &str, badges: &[Badge]) -> anyhow::Result<Vec<u8>> {
    let fonts = &*FONTS;
    let mut document = document(&format!("{meeting_title} — name badges"));
    let left = (PAGE_WIDTH - BADGE_WIDTH * 2.0) / 2.0;
    let top = (PAGE_HEIGHT - BADGE_HEIGHT * 4.0) / 2.0;
    let per_page = BADGE_COLUMNS * BADGE_ROWS;
    let pages: Vec<&[Badge]> = if badges.is_empty() { vec![&[]] } else { badges.chunks(per_page).collect() };
    for page_badges in pages {
        let mut page = document.start_page_with(PageSettings::from_wh(PAGE_WIDTH, PAGE_HEIGHT).expect("A4 is a size"));
        let mut surface = page.surface();
        if page_badges.is_empty() {
            text(&mut surface, &fonts.regular, 11.0, 0, (MARGIN, MARGIN + 12.0), "Nobody is registered yet.");
        }
        for (index, badge) in page_badges.iter().enumerate() {
            let (column, row) = ((index % BADGE_COLUMNS) as f32, (index / BADGE_COLUMNS) as f32);
            let x = left + column * BADGE_WIDTH;
            let y = top + row * BADGE_HEIGHT;
            draw_badge(&mut surface, fonts, (x, y), badge);
        }
        surface.finish();
        page.finish();
    }
    finish(document)
}

fn draw_badge(surface: &mut Surface<'_>, fonts: &Fonts, (x, y): (f32, f32), badge: &Badge) {
    if let Some(outline) = Rect::from_xywh(x, y, BADGE_WIDTH, BADGE_HEIGHT).and_then(|rect| {
        let mut path = PathBuilder::new();
        path.push_rect(rect);
        path.finish()
    }) {
        surface.set_fill(None);
        surface.set_stroke(Some(Stroke {
            paint: rgb::Color::new(190, 190, 190).into(),
            width: 0.5,
            ..Stroke::default()
        }));
        surface.draw_path(&outline);
        surface.set_stroke(None);
    }
    let padding = 7.0 * MILLIMETRE;
    let room = BADGE_WIDTH - 2.0 * padding;
    let inner = x + padding;
    text(
        surface,
        &fonts.regular,
        9.0,
        90,
        (inner, y + padding + 6.0),
        &fonts.regular.fitted(&badge.meeting_title, 9.0, room),
    );
    // The name as large as 22 pt allows, down to 12 pt; shortened only beyond that.
    let natural = fonts.bold.width(&badge.name, 22.0);
    let size = if natural > room { (22.0 * room / natural).max(12.0) } else { 22.0 };
    let name = fonts.bold.fitted(&badge.name, size, room);
    text(surface, &fonts.bold, size, 0, (inner, y + BADGE_HEIGHT * 0.45), &name);
    if !badge.function.is_empty() {
        let function = fonts.regular.fitted(&badge.function, 11.0, room);
        text(surface, &fonts.regular, 11.0, 50, (inner, y + BADGE_HEIGHT * 0.45 + 18.0), &function);
    }
    let state = fonts.bold.fitted(&badge.state_name, 14.0, room);
    text(surface, &fonts.bold, 14.0, 0, (inner, y + BADGE_HEIGHT - padding), &state);
}
