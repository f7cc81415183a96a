//! The seating plan as a printable picture: one A3 page of SVG.
//!
//! The table is drawn with a box per seat standing outward from its place: on the main table
//! the box carries the name plate (the delegation's name, or the chair's or official's role) and
//! the head of delegation's name; the adviser seats' boxes stand behind it with the advisers'
//! names. The chair is marked in its own colour and with the word "Chair"; a caption notes the
//! meeting, the room and the lot, and a legend explains the colours.
//!
//! A printed plan must not have names running off their plates, and an SVG renderer cannot say
//! how wide a text will be, so widths are estimated here: [`text_width`] gives every character
//! at least the advance it has in the widest bold font the picture may be shown in, and a
//! plate's text is wrapped onto two lines or shrunk until it fits.
//! [`compose`] exposes every computed box and width, so tests check the fit without a renderer.

use std::fmt::Write as _;

use crate::seating::{PathPoint, Seat, SeatKind, SeatPlace, SeatingPlan};
use crate::states::StateKind;

/// A3, in millimetres.
const LONG_SIDE: f64 = 420.0;
const SHORT_SIDE: f64 = 297.0;
const MARGIN: f64 = 10.0;
const HEADER: f64 = 24.0;
const FOOTER: f64 = 12.0;
/// Line height as a multiple of the font size.
const LEADING: f64 = 1.2;
/// Gap left between a box and its neighbours along its depth, in plan units.
const BOX_GAP: f64 = 0.08;
/// A box's thickness as a share of the seat pitch, leaving a gap between neighbours.
const BOX_THICKNESS: f64 = 0.9;
const FONT_FAMILY: &str = "Helvetica, Arial, 'Liberation Sans', 'DejaVu Sans', sans-serif";

/// The estimated width of `text` at `font_size` (in the same unit), never less than the bold
/// weight of any font the picture names needs.
///
/// Advance widths in em, rounded up from the widest of those fonts, DejaVu Sans Bold (what
/// `sans-serif` means on most Linux systems, wider than Helvetica, Arial or Liberation Sans):
/// narrow letters and punctuation 0.40, other narrow glyphs 0.50, Latin lower case 0.72 (m 1.05,
/// w 0.93), Latin capitals 0.86 (M 1.0, W 1.11), ligatures 1.2, digits 0.70, and 1.2 em for
/// everything else (other scripts, symbols), whose widths vary most.
#[must_use]
pub fn text_width(text: &str, font_size: f64) -> f64 {
    let ems: f64 =
        text.chars()
            .map(|c| match c {
                ' ' | 'i' | 'j' | 'l' | 'I' | 'J' | '.' | ',' | ':' | ';' | '\'' | '|' | '/' | '\u{2019}' | 'ı'
                | 'ł' => 0.40,
                'f' | 't' | 'r' | '(' | ')' | '[' | ']' | '-' | '!' | '"' => 0.50,
                'm' => 1.05,
                'w' => 0.93,
                'M' => 1.0,
                'W' => 1.11,
                'œ' | 'æ' | 'Œ' | 'Æ' => 1.2,
                '0'..='9' => 0.70,
                c if c <= '\u{024F}' && c.is_lowercase() => 0.72,
                c if c <= '\u{024F}' && c.is_uppercase() => 0.86,
                _ => 1.2,
            })
            .sum();
    ems * font_size
}

/// What a line of text is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineRole {
    /// The "Chair" mark on the chair's plate.
    Tag,
    /// A name plate: the delegation's name or the role.
    Label,
    /// A registered person's name.
    Occupant,
    Title,
    Note,
    Legend,
}

/// One line of text, placed.
#[derive(Debug, Clone, PartialEq)]
pub struct TextLine {
    pub text: String,
    pub role: LineRole,
    pub font_size: f64,
    pub bold: bool,
    /// The estimated width ([`text_width`]).
    pub width: f64,
    /// The line's centre; inside a plate, relative to the plate's centre before rotation.
    pub x: f64,
    /// The baseline; inside a plate, relative to the plate's centre before rotation.
    pub y: f64,
}

/// One seat's box, in page millimetres.
#[derive(Debug, Clone, PartialEq)]
pub struct Plate {
    pub seat: u32,
    pub kind: SeatKind,
    pub place: SeatPlace,
    pub state_kind: Option<StateKind>,
    pub delegation: Option<String>,
    /// The box's centre on the page.
    pub x: f64,
    pub y: f64,
    /// Degrees clockwise; chosen so no text is upside down.
    pub rotation: f64,
    /// Along the text.
    pub width: f64,
    pub height: f64,
    /// Kept clear inside the box's edges: text fits in `width - 2 padding` by `height - 2 padding`.
    pub padding: f64,
    pub lines: Vec<TextLine>,
}

/// A legend entry: a swatch and its meaning.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendItem {
    pub style: Style,
    /// The swatch's top-left corner.
    pub x: f64,
    pub y: f64,
    pub text: TextLine,
}

/// How a box is painted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub fill: &'static str,
    pub stroke: &'static str,
    pub dashed: bool,
    pub text: &'static str,
}

/// The whole picture, laid out, before it is written as SVG.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub width: f64,
    pub height: f64,
    pub title: String,
    /// The table's outline: one closed band (outer and inner edge) or one U-shaped polygon.
    pub table: Vec<Vec<(f64, f64)>>,
    pub plates: Vec<Plate>,
    pub captions: Vec<TextLine>,
    pub legend: Vec<LegendItem>,
}

const CHAIR: Style = Style { fill: "#f2c230", stroke: "#7a5a00", dashed: false, text: "#000000" };
const OFFICIAL: Style = Style { fill: "#cbb6e8", stroke: "#4b2e83", dashed: false, text: "#000000" };
const PARTICIPATING: Style = Style { fill: "#d6e6f7", stroke: "#1f4e89", dashed: false, text: "#000000" };
const PARTNER: Style = Style { fill: "#d5efd2", stroke: "#2e6b2a", dashed: false, text: "#000000" };
const ADVISER: Style = Style { fill: "#ffffff", stroke: "#8a8a8a", dashed: false, text: "#333333" };
const VACANT: Style = Style { fill: "#ffffff", stroke: "#b0b0b0", dashed: true, text: "#777777" };

fn style_of(plate: &Plate) -> Style {
    match (plate.kind, plate.state_kind) {
        (SeatKind::Chair, _) => CHAIR,
        (SeatKind::Official, _) => OFFICIAL,
        (SeatKind::Delegation, Some(StateKind::Partner)) => PARTNER,
        (SeatKind::Delegation, _) => PARTICIPATING,
        (SeatKind::Adviser, _) => ADVISER,
        (SeatKind::Vacant, _) => VACANT,
    }
}

/// A box in plan units, before the page is fitted.
struct PlanBox {
    centre: (f64, f64),
    /// Unit vector along the box's depth, away from the table.
    along: (f64, f64),
    depth: f64,
    thickness: f64,
}

impl PlanBox {
    /// `rows_behind` is the deepest row of advisers in the plan: the head of the table has no
    /// advisers, so its plates reach into that space and its long role names get room.
    fn of(seat: &Seat, plan: &SeatingPlan, rows_behind: u32) -> Self {
        let table = &plan.table;
        let radians = seat.angle.to_radians();
        let along = (-radians.sin(), radians.cos());
        let depth = match (seat.place, seat.kind) {
            (SeatPlace::Behind, _) => table.row_pitch,
            (_, SeatKind::Chair | SeatKind::Official) => table.plate_depth + f64::from(rows_behind) * table.row_pitch,
            _ => table.plate_depth,
        };
        let middle = depth / 2.0;
        Self {
            centre: (seat.x + along.0 * middle, seat.y + along.1 * middle),
            along,
            depth: depth - 2.0 * BOX_GAP,
            thickness: table.seat_pitch * BOX_THICKNESS,
        }
    }

    fn corners(&self) -> [(f64, f64); 4] {
        let (ax, ay) = (self.along.0 * self.depth / 2.0, self.along.1 * self.depth / 2.0);
        let (tx, ty) = (-self.along.1 * self.thickness / 2.0, self.along.0 * self.thickness / 2.0);
        let (cx, cy) = self.centre;
        [
            (cx + ax + tx, cy + ay + ty),
            (cx + ax - tx, cy + ay - ty),
            (cx - ax + tx, cy - ay + ty),
            (cx - ax - tx, cy - ay - ty),
        ]
    }
}

/// Lays the plan out on an A3 page (landscape or portrait, whichever the table fits better).
#[must_use]
pub fn compose(plan: &SeatingPlan) -> Picture {
    let seats: Vec<&Seat> = plan.all_seats().collect();
    let mut rows: Vec<(u32, u32)> = Vec::new();
    for front in seats.iter().filter_map(|seat| seat.behind) {
        match rows.iter_mut().find(|(seat, _)| *seat == front) {
            Some((_, count)) => *count += 1,
            None => rows.push((front, 1)),
        }
    }
    let rows_behind = rows.iter().map(|(_, count)| *count).max().unwrap_or(0);
    let boxes: Vec<PlanBox> = seats.iter().map(|seat| PlanBox::of(seat, plan, rows_behind)).collect();
    let table = table_polygons(plan);

    let points = boxes.iter().flat_map(PlanBox::corners).chain(table.iter().flatten().copied());
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        (min_x, min_y, max_x, max_y) = (min_x.min(x), min_y.min(y), max_x.max(x), max_y.max(y));
    }
    if min_x > max_x {
        (min_x, min_y, max_x, max_y) = (-1.0, -1.0, 1.0, 1.0);
    }
    let (plan_width, plan_height) = ((max_x - min_x).max(1.0), (max_y - min_y).max(1.0));
    let (width, height) = if plan_width >= plan_height { (LONG_SIDE, SHORT_SIDE) } else { (SHORT_SIDE, LONG_SIDE) };
    let area = (width - 2.0 * MARGIN, height - 2.0 * MARGIN - HEADER - FOOTER);
    let scale = (area.0 / plan_width).min(area.1 / plan_height);
    let offset = (MARGIN + (area.0 - plan_width * scale) / 2.0, MARGIN + HEADER + (area.1 - plan_height * scale) / 2.0);
    let page = |(x, y): (f64, f64)| ((x - min_x) * scale + offset.0, (y - min_y) * scale + offset.1);

    let plates = seats.iter().zip(&boxes).map(|(seat, plan_box)| plate(seat, plan_box, page, scale)).collect();
    let table = table.into_iter().map(|polygon| polygon.into_iter().map(page).collect()).collect();

    let title = if plan.meeting.is_empty() {
        format!("Seating plan: {}", plan.room)
    } else {
        format!("Seating plan: {}, {}", plan.meeting, plan.room)
    };
    let text_width_available = width - 2.0 * MARGIN;
    let mut captions =
        fit(&[Block { text: &title, role: LineRole::Title, scale: 1.0, bold: true }], text_width_available, 11.0, 7.0);
    let title_height: f64 = captions.iter().map(|line| line.font_size * LEADING).sum();
    let mut note = fit(
        &[Block { text: &plan.lot_note, role: LineRole::Note, scale: 1.0, bold: false }],
        text_width_available,
        HEADER - title_height - 2.0,
        4.5,
    );
    let note_height: f64 = note.iter().map(|line| line.font_size * LEADING).sum();
    // Each block was centred on 0; stack them from the top margin down.
    shift(&mut captions, width / 2.0, MARGIN + title_height / 2.0);
    shift(&mut note, width / 2.0, MARGIN + title_height + note_height / 2.0);
    captions.extend(note);

    Picture { width, height, title, table, plates, captions, legend: legend(width, height) }
}

/// The table's band, drawn just inside the line the seats stand on.
fn table_polygons(plan: &SeatingPlan) -> Vec<Vec<(f64, f64)>> {
    let outline = plan.table.outline();
    if outline.is_empty() {
        return Vec::new();
    }
    let pitch = plan.table.seat_pitch;
    let near = 0.15 * pitch;
    let far = near + (0.6 * plan.table.corner_radius).min(pitch);
    let inset = |inset: f64| -> Vec<(f64, f64)> {
        outline.iter().map(|PathPoint { x, y, inward }| (x + inward.0 * inset, y + inward.1 * inset)).collect()
    };
    if plan.table.shape == crate::seating::TableShape::Horseshoe {
        let mut band = inset(near);
        band.extend(inset(far).into_iter().rev());
        vec![band]
    } else {
        vec![inset(near), inset(far)]
    }
}

/// One seat's plate, fitted with its text.
fn plate(seat: &Seat, plan_box: &PlanBox, page: impl Fn((f64, f64)) -> (f64, f64), scale: f64) -> Plate {
    let (x, y) = page(plan_box.centre);
    let mut rotation = plan_box.along.1.atan2(plan_box.along.0).to_degrees();
    // Text reads left to right, or bottom to top when upright; never upside down.
    if rotation >= 90.0 - 1e-6 {
        rotation -= 180.0;
    } else if rotation < -90.0 - 1e-6 {
        rotation += 180.0;
    }
    let width = plan_box.depth * scale;
    let height = plan_box.thickness * scale;
    let padding = (0.06 * height).min(0.5);
    let occupant = seat.occupant.as_deref().unwrap_or_default();
    let tag = if seat.kind == SeatKind::Chair { "Chair" } else { "" };
    let (blocks, largest) = match seat.kind {
        SeatKind::Adviser => (vec![Block { text: occupant, role: LineRole::Occupant, scale: 1.0, bold: false }], 3.0),
        SeatKind::Vacant => (Vec::new(), 0.0),
        SeatKind::Chair | SeatKind::Official | SeatKind::Delegation => (
            vec![
                Block { text: tag, role: LineRole::Tag, scale: 0.8, bold: true },
                Block { text: &seat.label, role: LineRole::Label, scale: 1.0, bold: true },
                Block { text: occupant, role: LineRole::Occupant, scale: 0.85, bold: false },
            ],
            4.2,
        ),
    };
    let lines = fit(&blocks, width - 2.0 * padding, height - 2.0 * padding, largest);
    Plate {
        seat: seat.number,
        kind: seat.kind,
        place: seat.place,
        state_kind: seat.state_kind,
        delegation: seat.delegation.clone(),
        x,
        y,
        rotation,
        width,
        height,
        padding,
        lines,
    }
}

/// A piece of text to fit, at `scale` times the common font size.
struct Block<'a> {
    text: &'a str,
    role: LineRole,
    scale: f64,
    bold: bool,
}

/// Fits the blocks into a `width` by `height` box, centred on (0, 0), at the largest common font
/// size up to `largest` that fits. Each block goes on one line, or on two split at a space; a
/// block too long for either (a long name under a short label) may shrink on its own, down to
/// [`OWN_SHRINK`] of the common size, so it does not make the whole plate small.
fn fit(blocks: &[Block<'_>], width: f64, height: f64, largest: f64) -> Vec<TextLine> {
    let texts: Vec<(String, &Block<'_>)> =
        blocks.iter().map(|block| (clean(block.text), block)).filter(|(text, _)| !text.is_empty()).collect();
    if texts.is_empty() || width <= 0.0 || height <= 0.0 || largest <= 0.0 {
        return Vec::new();
    }
    // The size at which every block fits on one line: the fallback, which always fits.
    let one_line = texts
        .iter()
        .map(|(text, block)| width / text_width(text, block.scale))
        .fold(height / texts.iter().map(|(_, block)| block.scale * LEADING).sum::<f64>(), f64::min)
        * 0.999;
    let mut size = largest;
    let mut rows = None;
    while size > one_line && rows.is_none() {
        rows = try_size(&texts, width, height, size);
        size *= 0.95;
    }
    let rows = rows.unwrap_or_else(|| {
        let size = one_line.min(largest);
        texts.iter().map(|(text, block)| (text.clone(), *block, block.scale * size)).collect()
    });
    let total: f64 = rows.iter().map(|(_, _, font_size)| font_size * LEADING).sum();
    let mut top = -total / 2.0;
    rows.into_iter()
        .map(|(text, block, font_size)| {
            let line = TextLine {
                width: text_width(&text, font_size),
                text,
                role: block.role,
                font_size,
                bold: block.bold,
                x: 0.0,
                // The baseline sits so the glyphs (accents up to ~0.9 em above it, descenders
                // ~0.21 em below) stay inside the line.
                y: top + font_size * (LEADING / 2.0 + 0.33),
            };
            top += font_size * LEADING;
            line
        })
        .collect()
}

/// How far one block may shrink below the plate's common font size.
const OWN_SHRINK: f64 = 0.6;

/// The lines at common size `size`, with their font sizes, if everything fits. Each block has
/// up to three ways to be set (one line, two lines, one line shrunk on its own); of the
/// combinations that fit, the one whose smallest text is largest wins, then the one with fewer
/// lines.
fn try_size<'a>(
    texts: &[(String, &'a Block<'a>)],
    width: f64,
    height: f64,
    size: f64,
) -> Option<Vec<(String, &'a Block<'a>, f64)>> {
    type Rows<'a> = Vec<(String, &'a Block<'a>, f64)>;
    let mut choices: Vec<Vec<Rows<'a>>> = Vec::new();
    for (text, block) in texts {
        let font_size = block.scale * size;
        let mut ways: Vec<Rows<'a>> = Vec::new();
        if text_width(text, font_size) <= width {
            ways.push(vec![(text.clone(), *block, font_size)]);
        } else {
            let widest =
                |(first, second): &(&str, &str)| text_width(first, font_size).max(text_width(second, font_size));
            let split = text
                .match_indices(' ')
                .map(|(at, _)| (&text[..at], &text[at + 1..]))
                .filter(|halves| widest(halves) <= width)
                .min_by(|a, b| widest(a).total_cmp(&widest(b)));
            if let Some((first, second)) = split {
                ways.push(vec![(first.to_owned(), *block, font_size), (second.to_owned(), *block, font_size)]);
            }
            let own = width / text_width(text, 1.0) * 0.999;
            if own >= font_size * OWN_SHRINK {
                ways.push(vec![(text.clone(), *block, own)]);
            }
        }
        if ways.is_empty() {
            return None;
        }
        choices.push(ways);
    }
    let mut best: Option<(f64, usize, Rows<'a>)> = None;
    let combinations: usize = choices.iter().map(Vec::len).product();
    for mut index in 0..combinations {
        let mut rows = Vec::new();
        for ways in &choices {
            rows.extend(ways[index % ways.len()].iter().cloned());
            index /= ways.len();
        }
        let total: f64 = rows.iter().map(|(_, _, font_size)| font_size * LEADING).sum();
        if total > height {
            continue;
        }
        let smallest = rows.iter().map(|(_, _, font_size)| *font_size).fold(f64::MAX, f64::min);
        let better = best.as_ref().is_none_or(|(best_smallest, best_lines, _)| {
            smallest > *best_smallest + 1e-9 || (smallest > *best_smallest - 1e-9 && rows.len() < *best_lines)
        });
        if better {
            best = Some((smallest, rows.len(), rows));
        }
    }
    best.map(|(_, _, rows)| rows)
}

/// Whitespace runs become single spaces; characters XML 1.0 cannot carry are dropped.
fn clean(text: &str) -> String {
    text.split_whitespace()
        .flat_map(|word| word.chars().filter(|c| !c.is_control() && !matches!(c, '\u{FFFE}' | '\u{FFFF}')).chain([' ']))
        .collect::<String>()
        .trim_end()
        .to_owned()
}

fn shift(lines: &mut [TextLine], dx: f64, dy: f64) {
    for line in lines {
        line.x += dx;
        line.y += dy;
    }
}

/// One row of swatches along the foot of the page, shrunk if it would not fit.
fn legend(width: f64, height: f64) -> Vec<LegendItem> {
    let entries = [
        (CHAIR, "Chair"),
        (OFFICIAL, "Official"),
        (PARTICIPATING, "Participating State"),
        (PARTNER, "Partner for Co-operation"),
        (ADVISER, "Adviser seat (behind)"),
        (VACANT, "Vacant seat"),
    ];
    let (swatch, gap, spacing) = (6.0, 1.5, 6.0);
    let natural: f64 = 4.0;
    let total = |size: f64| -> f64 {
        entries.iter().map(|(_, text)| swatch + gap + text_width(text, size) + spacing).sum::<f64>() - spacing
    };
    // The swatches and gaps keep their size; only the text shrinks.
    let fixed = total(0.0);
    let ems: f64 = entries.iter().map(|(_, text)| text_width(text, 1.0)).sum();
    let size = natural.min((width - 2.0 * MARGIN - fixed) / ems);
    let mut x = (width - total(size)) / 2.0;
    let y = height - MARGIN - FOOTER / 2.0;
    entries
        .iter()
        .map(|(style, text)| {
            let line = TextLine {
                text: (*text).to_owned(),
                role: LineRole::Legend,
                font_size: size,
                bold: false,
                width: text_width(text, size),
                x: x + swatch + gap,
                y: y + size * 0.35,
            };
            let item = LegendItem { style: *style, x, y: y - 2.0, text: line };
            x += swatch + gap + item.text.width + spacing;
            item
        })
        .collect()
}

/// Renders the plan as a standalone SVG document (A3, millimetres).
#[must_use]
pub fn render_svg(plan: &SeatingPlan) -> String {
    compose(plan).to_svg()
}

impl Picture {
    /// Writes the picture as SVG; all text is XML-escaped.
    #[must_use]
    pub fn to_svg(&self) -> String {
        let mut svg = String::with_capacity(64 * 1024);
        let (width, height) = (self.width, self.height);
        // Writing to a String cannot fail, so the `fmt::Result`s below are ignored.
        let _ = write!(
            svg,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" \
             width=\"{width}mm\" height=\"{height}mm\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONT_FAMILY}\">\n\
             <title>{}</title>\n<rect width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>\n",
            escape(&self.title)
        );
        svg.push_str("<g class=\"caption\">\n");
        for line in &self.captions {
            write_line(&mut svg, line, "#000000");
        }
        svg.push_str("</g>\n");
        if !self.table.is_empty() {
            let mut path = String::new();
            for polygon in &self.table {
                for (index, (x, y)) in polygon.iter().enumerate() {
                    let _ = write!(path, "{}{x:.2} {y:.2} ", if index == 0 { "M" } else { "L" });
                }
                path.push_str("Z ");
            }
            let _ = writeln!(
                svg,
                "<path class=\"table\" d=\"{}\" fill=\"#e9e1d3\" stroke=\"#7a6a55\" stroke-width=\"0.4\" fill-rule=\"evenodd\"/>",
                path.trim_end()
            );
        }
        for plate in &self.plates {
            let style = style_of(plate);
            let class = match (plate.kind, plate.state_kind) {
                (SeatKind::Chair, _) => "chair",
                (SeatKind::Official, _) => "official",
                (SeatKind::Delegation, Some(StateKind::Partner)) => "partner",
                (SeatKind::Delegation, _) => "participating",
                (SeatKind::Adviser, _) => "adviser",
                (SeatKind::Vacant, _) => "vacant",
            };
            let place = match plate.place {
                SeatPlace::MainTable => "main-table",
                SeatPlace::PartnerRow => "partner-row",
                SeatPlace::Behind => "behind",
            };
            let _ = write!(svg, "<g class=\"plate {class} {place}\" data-seat=\"{}\"", plate.seat);
            if let Some(delegation) = &plate.delegation {
                let _ = write!(svg, " data-delegation=\"{}\"", escape(delegation));
            }
            let _ =
                writeln!(svg, " transform=\"translate({:.2} {:.2}) rotate({:.2})\">", plate.x, plate.y, plate.rotation);
            let stroke_width = if plate.kind == SeatKind::Chair { 0.6 } else { 0.25 };
            let _ = writeln!(
                svg,
                "<rect x=\"{:.3}\" y=\"{:.3}\" width=\"{:.3}\" height=\"{:.3}\" rx=\"0.6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"{stroke_width}\"{}/>",
                -plate.width / 2.0,
                -plate.height / 2.0,
                plate.width,
                plate.height,
                style.fill,
                style.stroke,
                if style.dashed { " stroke-dasharray=\"1 0.8\"" } else { "" }
            );
            for line in &plate.lines {
                write_line(&mut svg, line, style.text);
            }
            svg.push_str("</g>\n");
        }
        svg.push_str("<g class=\"legend\">\n");
        for item in &self.legend {
            let style = item.style;
            let _ = writeln!(
                svg,
                "<rect x=\"{:.2}\" y=\"{:.2}\" width=\"6\" height=\"4\" rx=\"0.6\" fill=\"{}\" stroke=\"{}\" stroke-width=\"0.3\"{}/>",
                item.x,
                item.y,
                style.fill,
                style.stroke,
                if style.dashed { " stroke-dasharray=\"1 0.8\"" } else { "" }
            );
            let mut text = item.text.clone();
            // Legend text starts at its x rather than centring on it.
            text.x += text.width / 2.0;
            write_line(&mut svg, &text, "#000000");
        }
        svg.push_str("</g>\n</svg>\n");
        svg
    }
}

fn write_line(svg: &mut String, line: &TextLine, colour: &str) {
    let class = match line.role {
        LineRole::Tag => "tag",
        LineRole::Label => "label",
        LineRole::Occupant => "occupant",
        LineRole::Title => "title",
        LineRole::Note => "note",
        LineRole::Legend => "legend",
    };
    let _ = writeln!(
        svg,
        "<text class=\"{class}\" x=\"{:.3}\" y=\"{:.3}\" font-size=\"{:.3}\"{} fill=\"{colour}\" text-anchor=\"middle\">{}</text>",
        line.x,
        line.y,
        line.font_size,
        if line.bold { " font-weight=\"bold\"" } else { "" },
        escape(&line.text)
    );
}

/// Escapes text for XML content and attribute values.
fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if c.is_control() || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {}
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seating::tests::{arbitrary_meeting, invited_on, request, room};
    use crate::seating::{
        Attendee, AttendeeSeat, PlateNames, RoomLayout, SeatingRules, TableShape, layout_for, plan_seating,
    };
    use crate::states::{Delegation, PartnerGroup};

    /// A parsed XML element: enough of XML 1.0 to check well-formedness and read the plates.
    #[derive(Debug)]
    struct Element {
        name: String,
        attributes: Vec<(String, String)>,
        children: Vec<Node>,
    }

    #[derive(Debug)]
    enum Node {
        Element(Element),
        Text(String),
    }

    impl Element {
        fn attribute(&self, name: &str) -> Option<&str> {
            self.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
        }

        fn elements(&self) -> impl Iterator<Item = &Element> {
            self.children.iter().filter_map(|node| match node {
                Node::Element(element) => Some(element),
                Node::Text(_) => None,
            })
        }

        fn descendants<'a>(&'a self, out: &mut Vec<&'a Element>) {
            for child in self.elements() {
                out.push(child);
                child.descendants(out);
            }
        }

        fn text(&self) -> String {
            self.children
                .iter()
                .map(|node| match node {
                    Node::Text(text) => text.clone(),
                    Node::Element(element) => element.text(),
                })
                .collect()
        }
    }

    /// A strict little XML parser: one root, matching tags, quoted and unique attributes,
    /// only the predefined and numeric entities, only characters XML 1.0 allows.
    struct Parser<'a> {
        rest: &'a str,
    }

    impl<'a> Parser<'a> {
        fn parse(xml: &'a str) -> Result<Element, String> {
            let mut parser = Parser { rest: xml };
            if parser.rest.starts_with("<?xml") {
                let end = parser.rest.find("?>").ok_or("unterminated XML declaration")?;
                parser.rest = &parser.rest[end + 2..];
            }
            parser.misc()?;
            let root = parser.element()?;
            parser.misc()?;
            if !parser.rest.is_empty() {
                return Err(format!("content after the root element: {:.40}", parser.rest));
            }
            Ok(root)
        }

        fn misc(&mut self) -> Result<(), String> {
            loop {
                self.rest = self.rest.trim_start();
                if let Some(comment) = self.rest.strip_prefix("<!--") {
                    let end = comment.find("-->").ok_or("unterminated comment")?;
                    self.rest = &comment[end + 3..];
                } else {
                    return Ok(());
                }
            }
        }

        fn name(&mut self) -> Result<String, String> {
            let end = self
                .rest
                .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.')))
                .unwrap_or(self.rest.len());
            let name = &self.rest[..end];
            if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
                return Err(format!("bad name at {:.40}", self.rest));
            }
            self.rest = &self.rest[end..];
            Ok(name.to_owned())
        }

        fn element(&mut self) -> Result<Element, String> {
            self.rest = self.rest.strip_prefix('<').ok_or_else(|| format!("expected '<' at {:.40}", self.rest))?;
            let name = self.name()?;
            let mut attributes: Vec<(String, String)> = Vec::new();
            loop {
                let trimmed = self.rest.trim_start();
                let spaced = trimmed.len() < self.rest.len();
                self.rest = trimmed;
                if let Some(rest) = self.rest.strip_prefix("/>") {
                    self.rest = rest;
                    return Ok(Element { name, attributes, children: Vec::new() });
                }
                if let Some(rest) = self.rest.strip_prefix('>') {
                    self.rest = rest;
                    break;
                }
                if !spaced {
                    return Err(format!("attributes must be separated by spaces in <{name}>"));
                }
                let attribute = self.name()?;
                self.rest = self.rest.trim_start().strip_prefix('=').ok_or("expected '='")?.trim_start();
                let quote = self.rest.chars().next().filter(|c| matches!(c, '"' | '\'')).ok_or("unquoted value")?;
                let end = self.rest[1..].find(quote).ok_or("unterminated value")?;
                let raw = &self.rest[1..=end];
                if raw.contains('<') {
                    return Err(format!("'<' in attribute {attribute}"));
                }
                if attributes.iter().any(|(n, _)| *n == attribute) {
                    return Err(format!("duplicate attribute {attribute} in <{name}>"));
                }
                attributes.push((attribute, unescape(raw)?));
                self.rest = &self.rest[end + 2..];
            }
            let mut children = Vec::new();
            loop {
                if let Some(rest) = self.rest.strip_prefix("</") {
                    self.rest = rest;
                    let end = self.name()?;
                    if end != name {
                        return Err(format!("</{end}> closes <{name}>"));
                    }
                    self.rest = self.rest.trim_start().strip_prefix('>').ok_or("unterminated end tag")?;
                    return Ok(Element { name, attributes, children });
                }
                if self.rest.starts_with("<!--") {
                    self.misc()?;
                } else if self.rest.starts_with('<') {
                    children.push(Node::Element(self.element()?));
                } else {
                    let end = self.rest.find('<').ok_or_else(|| format!("<{name}> is never closed"))?;
                    let raw = &self.rest[..end];
                    if raw.contains("]]>") {
                        return Err("']]>' in text".into());
                    }
                    children.push(Node::Text(unescape(raw)?));
                    self.rest = &self.rest[end..];
                }
            }
        }
    }

    fn unescape(raw: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = raw;
        while let Some(at) = rest.find('&') {
            out.push_str(&rest[..at]);
            let end = rest[at..].find(';').ok_or("unterminated entity")? + at;
            let entity = &rest[at + 1..end];
            let c = match entity {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = if let Some(hex) = entity.strip_prefix("#x") {
                        u32::from_str_radix(hex, 16)
                    } else if let Some(decimal) = entity.strip_prefix('#') {
                        decimal.parse()
                    } else {
                        return Err(format!("unknown entity &{entity};"));
                    };
                    code.ok().and_then(char::from_u32).ok_or(format!("bad character reference &{entity};"))?
                }
            };
            out.push(c);
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        match out.chars().find(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            Some(c) => Err(format!("character {c:?} is not allowed in XML 1.0")),
            None => Ok(out),
        }
    }

    #[test]
    fn the_little_parser_rejects_what_is_not_well_formed() {
        assert!(Parser::parse("<a x=\"1\"><b/>t &amp; u</a>").is_ok());
        for bad in [
            "<a><b></a>",
            "<a x=\"1\" x=\"2\"/>",
            "<a>&nbsp;</a>",
            "<a>x & y</a>",
            "<a x=1/>",
            "<a/><b/>",
            "<a>\u{1}</a>",
            "<a>",
        ] {
            assert!(Parser::parse(bad).is_err(), "{bad}");
        }
    }

    /// Every plate in the SVG: (group, its rect, its text elements).
    fn svg_plates(root: &Element) -> Vec<&Element> {
        let mut all = Vec::new();
        root.descendants(&mut all);
        all.into_iter()
            .filter(|e| e.name == "g" && e.attribute("class").is_some_and(|c| c.starts_with("plate ")))
            .collect()
    }

    fn number(element: &Element, attribute: &str) -> f64 {
        element.attribute(attribute).unwrap().parse().unwrap()
    }

    /// Checks an SVG: well-formed, every invited delegation's name exactly once on the main
    /// table (or the Partners' row), and no text wider or taller than its plate.
    fn check_svg(svg: &str, invited: &[Delegation], names: PlateNames) {
        let root = Parser::parse(svg).unwrap_or_else(|e| panic!("not well-formed: {e}"));
        assert_eq!(root.name, "svg");
        let plates = svg_plates(&root);
        for delegation in invited {
            let name = match names {
                PlateNames::English => delegation.name_en.clone(),
                PlateNames::French => delegation.name_fr.clone(),
                PlateNames::EnglishAndFrench if delegation.name_en == delegation.name_fr => delegation.name_en.clone(),
                PlateNames::EnglishAndFrench => format!("{} / {}", delegation.name_en, delegation.name_fr),
            };
            let on_table: Vec<String> = plates
                .iter()
                .filter(|g| {
                    let class = g.attribute("class").unwrap_or_default();
                    !class.contains("behind") && !class.contains("chair")
                })
                .map(|g| {
                    let lines: Vec<String> =
                        g.elements().filter(|e| e.attribute("class") == Some("label")).map(Element::text).collect();
                    lines.join(" ")
                })
                .filter(|label| *label == name)
                .collect();
            assert_eq!(on_table.len(), 1, "{name} on the main table: {on_table:?}");
        }
        for g in plates {
            let rect = g.elements().find(|e| e.name == "rect").unwrap();
            let (width, height) = (number(rect, "width"), number(rect, "height"));
            let texts: Vec<&Element> = g.elements().filter(|e| e.name == "text").collect();
            let mut total = 0.0;
            for text in &texts {
                let size = number(text, "font-size");
                let estimated = text_width(&text.text(), size);
                assert!(estimated <= width + 0.01, "{:?} is {estimated} wide on a plate {width} wide", text.text());
                total += size * LEADING;
            }
            assert!(total <= height + 0.01, "{} lines {total} high on a plate {height} high", texts.len());
        }
    }

    fn check_picture(picture: &Picture) {
        for plate in &picture.plates {
            let (width, height) = (plate.width - 2.0 * plate.padding, plate.height - 2.0 * plate.padding);
            for line in &plate.lines {
                assert!((line.width - text_width(&line.text, line.font_size)).abs() < 1e-9);
                assert!(line.width <= width + 1e-9, "seat {}: {:?} {} > {width}", plate.seat, line.text, line.width);
                assert!(line.y + line.font_size * 0.22 <= height / 2.0 + 1e-9, "seat {}: below the plate", plate.seat);
                assert!(line.y - line.font_size * 0.9 >= -height / 2.0 - 1e-9, "seat {}: above the plate", plate.seat);
            }
            let total: f64 = plate.lines.iter().map(|line| line.font_size * LEADING).sum();
            assert!(total <= height + 1e-9, "seat {}: {total} > {height}", plate.seat);
        }
        for line in &picture.captions {
            assert!(line.width <= picture.width - 2.0 * MARGIN + 1e-9, "{line:?}");
        }
        let legend_end = picture.legend.last().map_or(0.0, |item| item.text.x + item.text.width);
        assert!(legend_end <= picture.width - MARGIN + 1e-9);
    }

    fn pc_plan(names: PlateNames) -> (SeatingPlan, Vec<Delegation>) {
        let invited = invited_on("2026-11-27");
        let mut request = request(invited.clone(), "CH", "GR");
        request.plate_names = names;
        request.attendees = vec![
            Attendee {
                iso2: "BA".into(),
                name: "Ambassador Aleksandra Kovačević-Hadžiomerović".into(),
                seat: AttendeeSeat::Main,
            },
            Attendee { iso2: "US".into(), name: "<script>alert('x')</script> & co".into(), seat: AttendeeSeat::Main },
            Attendee { iso2: "JP".into(), name: "山田 太郎".into(), seat: AttendeeSeat::Behind },
            Attendee { iso2: "FR".into(), name: "Tab\tand\u{1}control".into(), seat: AttendeeSeat::Behind },
        ];
        let plan = plan_seating(&request, &RoomLayout::for_room(&room("Neuer Saal"))).unwrap();
        (plan, invited)
    }

    #[test]
    fn the_permanent_council_plan_is_valid_xml_with_every_name_once_and_fitting() {
        for names in [PlateNames::English, PlateNames::French, PlateNames::EnglishAndFrench] {
            let (plan, invited) = pc_plan(names);
            let picture = compose(&plan);
            check_picture(&picture);
            assert_eq!((picture.width, picture.height), (LONG_SIDE, SHORT_SIDE), "the ring prints landscape");
            let svg = picture.to_svg();
            check_svg(&svg, &invited, names);
            assert!(svg.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt; &amp; co"));
            assert!(!svg.contains("<script"));
            assert!(svg.contains("Order starts with Greece, drawn on 2026-01-05 by the Chairmanship"));
        }
    }

    #[test]
    fn the_chair_is_marked_and_the_legend_explains_the_colours() {
        let (plan, _) = pc_plan(PlateNames::English);
        let picture = compose(&plan);
        let chair = &picture.plates[0];
        assert_eq!(chair.kind, SeatKind::Chair);
        assert_eq!(style_of(chair), CHAIR);
        assert_eq!(chair.lines[0].text, "Chair");
        assert_eq!(chair.lines[0].role, LineRole::Tag);
        let label: Vec<&str> =
            chair.lines.iter().filter(|l| l.role == LineRole::Label).map(|l| l.text.as_str()).collect();
        assert_eq!(label.join(" "), "Chairperson-in-Office (Switzerland)");
        assert_eq!(style_of(&picture.plates[1]), OFFICIAL);
        let legend: Vec<&str> = picture.legend.iter().map(|item| item.text.text.as_str()).collect();
        assert_eq!(
            legend,
            [
                "Chair",
                "Official",
                "Participating State",
                "Partner for Co-operation",
                "Adviser seat (behind)",
                "Vacant seat"
            ]
        );
        // The names on the main plates stay readable on A3: at least 2 mm (about 6 pt).
        for plate in picture.plates.iter().filter(|p| p.kind == SeatKind::Delegation) {
            let labels = plate.lines.iter().filter(|l| l.role == LineRole::Label);
            assert!(labels.clone().all(|l| l.font_size >= 2.0), "seat {}: {:?}", plate.seat, plate.lines);
        }
        // A very long name is wrapped or shrunk, never left to overflow.
        let bosnia =
            picture.plates.iter().find(|p| p.delegation.as_deref() == Some("BA") && p.kind == SeatKind::Delegation);
        assert!(bosnia.unwrap().lines.iter().any(|l| l.text.contains("Kovačević")));
    }

    #[test]
    fn a_contact_group_horseshoe_and_a_partners_row_render_too() {
        let invited: Vec<Delegation> = invited_on("2026-03-12")
            .into_iter()
            .filter(|d| {
                d.kind == crate::states::StateKind::Participating || d.partner_group == Some(PartnerGroup::Asian)
            })
            .collect();
        let plan =
            plan_seating(&request(invited.clone(), "FI", "KZ"), &RoomLayout::for_room(&room("Ratsaal"))).unwrap();
        let picture = compose(&plan);
        check_picture(&picture);
        check_svg(&picture.to_svg(), &invited, PlateNames::English);

        let all = invited_on("2026-11-27");
        let mut apart = request(all.clone(), "CH", "AL");
        apart.rules = SeatingRules { partners_at_main_table: false, seats_behind: 1, ..SeatingRules::default() };
        let plan = plan_seating(&apart, &layout_for("Salle", 62, TableShape::Generic)).unwrap();
        let picture = compose(&plan);
        check_picture(&picture);
        check_svg(&picture.to_svg(), &all, PlateNames::English);
    }

    #[test]
    fn text_width_is_conservative_and_wrapping_prefers_a_larger_font() {
        assert!(text_width("WWW", 10.0) > text_width("iii", 10.0) * 2.0);
        assert!((text_width("Albania", 1.0) - (0.86 + 0.40 + 0.72 * 3.0 + 0.40 + 0.72)).abs() < 1e-9);
        let lines = fit(
            &[Block { text: "Bosnia and Herzegovina", role: LineRole::Label, scale: 1.0, bold: true }],
            40.0,
            12.0,
            4.2,
        );
        assert_eq!(lines.len(), 2);
        assert_eq!(lines.iter().map(|l| l.text.as_str()).collect::<Vec<_>>(), ["Bosnia and", "Herzegovina"]);
        assert!((lines[0].font_size - 4.2).abs() < 1e-9);
        // A single unbreakable word shrinks to fit.
        let lines =
            fit(&[Block { text: "Liechtenstein", role: LineRole::Label, scale: 1.0, bold: true }], 10.0, 20.0, 4.2);
        assert_eq!(lines.len(), 1);
        assert!(lines[0].width <= 10.0);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(24))]

        #[test]
        fn random_plans_render_as_valid_svg_with_every_name_fitting((request, layout, needed) in arbitrary_meeting()) {
            proptest::prop_assume!(layout.main.len() >= needed);
            let plan = plan_seating(&request, &layout).unwrap();
            let picture = compose(&plan);
            check_picture(&picture);
            check_svg(&picture.to_svg(), &request.invited, request.plate_names);
        }
    }
}
