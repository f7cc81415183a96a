//! Seating: who sits where around the main table, and who sits behind whom.
//!
//! Delegations sit "as equals" around one table, in French alphabetical order of their protocol
//! names, as one continuous ring: the order starts with a participating State drawn by lot (after
//! Ukraine comes Albania again), then the invited Partners follow in protocol order. The head of
//! the table seats the presiding chair (or co-chairs) and the officials the body names; the
//! Chairmanship's own delegation keeps its national seat in the ring. Each delegation has exactly
//! one seat at the main table (its head of delegation) and a quota of adviser seats behind it.
//! Planning never drops anyone: a table too small for the meeting is an error.
//!
//! Rooms are data ([`RoomLayout`]): every main-table seat has a position and the direction its
//! occupant faces. Coordinates are *plan units*, one unit being the nominal distance between two
//! neighbouring seats at the main table; they place seats relative to one another for the printed
//! plan ([`crate::seating_svg`]) and the web view, they are not a survey of the room. The page's
//! y axis points down, as in SVG.
//!
//! Everything here is pure: the lot is drawn from a seed the caller passes in ([`draw_lot`]), so a
//! recorded draw reproduces the same plan.

use std::f64::consts::PI;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::protocol::protocol_cmp;
use crate::reference::Room;
use crate::states::{Delegation, StateKind, sort_in_protocol_order};

/// How deep, outward from the table, a main-table seat's box (its name plate and its head of
/// delegation) reaches in the plan.
const PLATE_DEPTH: f64 = 5.0;
/// How far each row of adviser seats is set back from the one in front of it.
const ROW_PITCH: f64 = 2.5;
/// The clearance between the main table's outermost seats and a separate row of Partners.
const ROW_CLEARANCE: f64 = 1.5;

/// A body's seating rules, stored with the body so organisers can change them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SeatingRules {
    /// Since 2007 the Partners for Co-operation sit at the main table with the participating
    /// States; `false` seats them in a row of their own, still one named seat each.
    pub partners_at_main_table: bool,
    /// The officials seated at the head of the table after the chair(s), in this order (for the
    /// Permanent Council: the Secretary General).
    pub officials: Vec<String>,
    /// Adviser seats behind each delegation's seat (the quota).
    pub seats_behind: u32,
}

impl Default for SeatingRules {
    fn default() -> Self {
        Self { partners_at_main_table: true, officials: Vec::new(), seats_behind: 2 }
    }
}

/// The officials a body's rules may seat at the head of the table, as plans name them.
pub const OFFICIALS: &[&str] = &[
    "Secretary General",
    "President of the OSCE Parliamentary Assembly",
    "Secretary General of the OSCE Parliamentary Assembly",
    "High Commissioner on National Minorities",
    "Director of ODIHR",
    "Representative on Freedom of the Media",
    "Co-ordinator of OSCE Economic and Environmental Activities",
    "Director of the Conflict Prevention Centre",
    "Chairperson of the Forum for Security Co-operation",
];

/// The official named `name` as [`OFFICIALS`] spells it (case and surrounding spaces ignored).
#[must_use]
pub fn known_official(name: &str) -> Option<&'static str> {
    let name = name.trim();
    OFFICIALS.iter().copied().find(|official| official.eq_ignore_ascii_case(name))
}

/// The most adviser seats a rule may put behind one delegation.
pub const MAX_SEATS_BEHIND: u32 = 10;

/// Why seating rules an organiser sent are not acceptable; `Display` says what is wrong
/// without the field, [`RulesError::field`] names it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RulesError {
    #[error("unknown official {name:?}; known officials are {}", OFFICIALS.join(", "))]
    UnknownOfficial { name: String },
    #[error("{official} is named twice")]
    OfficialTwice { official: &'static str },
    #[error("at most {MAX_SEATS_BEHIND} seats behind a delegation, got {seats}")]
    TooManyBehind { seats: u32 },
}

impl RulesError {
    /// The field at fault.
    #[must_use]
    pub const fn field(&self) -> &'static str {
        match self {
            Self::UnknownOfficial { .. } | Self::OfficialTwice { .. } => "officials",
            Self::TooManyBehind { .. } => "seats_behind",
        }
    }
}

impl SeatingRules {
    /// Rules as an organiser sent them, checked: every official known (named in any case, kept
    /// in the canonical spelling) and seated once, at most [`MAX_SEATS_BEHIND`] seats behind.
    ///
    /// # Errors
    /// The first value that is not acceptable.
    pub fn checked(partners_at_main_table: bool, officials: &[String], seats_behind: u32) -> Result<Self, RulesError> {
        let mut seated: Vec<String> = Vec::new();
        for name in officials {
            let official = known_official(name).ok_or_else(|| RulesError::UnknownOfficial { name: name.clone() })?;
            if seated.iter().any(|other| other == official) {
                return Err(RulesError::OfficialTwice { official });
            }
            seated.push(official.to_owned());
        }
        if seats_behind > MAX_SEATS_BEHIND {
            return Err(RulesError::TooManyBehind { seats: seats_behind });
        }
        Ok(Self { partners_at_main_table, officials: seated, seats_behind })
    }

    /// The adviser seats behind each delegation in one meeting's plan: the meeting's own quota
    /// when organisers set one for its registrations, otherwise this rule's; raised to the most
    /// advisers any delegation has confirmed (an organiser may admit one past the quota), so
    /// every confirmed adviser has a seat and none is dropped.
    #[must_use]
    pub fn for_meeting(mut self, meeting_quota: Option<u32>, attendees: &[Attendee]) -> Self {
        let mut most = 0;
        for attendee in attendees.iter().filter(|a| a.seat == AttendeeSeat::Behind) {
            let behind = attendees.iter().filter(|a| a.seat == AttendeeSeat::Behind && a.iso2 == attendee.iso2).count();
            most = most.max(u32::try_from(behind).unwrap_or(u32::MAX));
        }
        self.seats_behind = meeting_quota.unwrap_or(self.seats_behind).max(most);
        self
    }

    /// Plenary's default rules for `body` (DOMAIN.md, "Seating"): the Partners at the main table
    /// (since 2007), the body's quota of seats behind each delegation, and for the Permanent
    /// Council the Secretary General at the head of the table after the chair.
    #[must_use]
    pub fn defaults_for(body: &crate::bodies::Body) -> Self {
        Self {
            partners_at_main_table: true,
            officials: if body.code == crate::bodies::BodyCode::Pc {
                vec!["Secretary General".to_owned()]
            } else {
                Vec::new()
            },
            seats_behind: body.seats_behind_quota,
        }
    }
}

/// The head of the table for a meeting's derived chair: a single chair sits as "Chairperson",
/// co-chairs as the incoming and the outgoing Co-Chair; a chair not yet known is "to be
/// decided", never guessed.
#[must_use]
pub fn head_of_table(chair: &crate::chairs::Chair) -> Vec<Chair> {
    let seat = |role: &str, iso2: &Option<String>| Chair { role: role.to_owned(), iso2: iso2.clone(), name: None };
    match chair {
        crate::chairs::Chair::Single(iso2) => vec![seat("Chairperson", iso2)],
        crate::chairs::Chair::CoChairs { incoming, outgoing } => {
            vec![seat("Incoming Co-Chair", incoming), seat("Outgoing Co-Chair", outgoing)]
        }
    }
}

/// One presiding seat at the head of the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chair {
    /// The role as the plan names it: "Chairperson-in-Office", "Chair of the Contact Group
    /// with the Asian Partners".
    pub role: String,
    /// The State holding the role; `None` while it is not decided, shown as "to be decided"
    /// and never guessed.
    pub iso2: Option<String>,
    /// Who presides in person, when known.
    pub name: Option<String>,
}

/// The recorded draw that decides which participating State the ring starts with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lot {
    /// The participating State drawn.
    pub iso2: String,
    /// When the lot was drawn, for the plan's note.
    pub drawn_on: NaiveDate,
    /// Who drew it ("the Chairmanship", "the Secretariat"), for the plan's note.
    pub drawn_by: String,
}

/// Where a registered attendee sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttendeeSeat {
    /// The delegation's seat at the main table: its head of delegation.
    Main,
    /// One of the adviser seats behind it.
    Behind,
}

/// Someone a delegation registered for the meeting.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attendee {
    pub iso2: String,
    pub name: String,
    pub seat: AttendeeSeat,
}

/// The language of the name plates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateNames {
    #[default]
    English,
    French,
    /// "Germany / Allemagne"; a name that is the same in both ("Canada") is written once.
    EnglishAndFrench,
}

/// Who a plan is drawn for, which decides whether it names the people seated.
///
/// Registered people's names are personal data that only those who take part in Plenary may
/// read (anonymous callers get 401 on the registrations themselves); the delegations' plates,
/// the chairs' and officials' roles are public. This is the one place the choice is made:
/// [`plan_seating`] asks it for every name it would write on a seat and for every name a
/// [`SeatingError`] would quote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Occupants {
    /// Anyone, including visitors who are not logged in: plates and roles, no names.
    #[default]
    Hidden,
    /// Delegations, organisers and the command line: the registered names too.
    Named,
}

impl Occupants {
    /// The name to write on a seat taken by `name`: the name, or nothing.
    #[must_use]
    pub fn seat_name(self, name: &str) -> Option<String> {
        match self {
            Self::Named => Some(name.to_owned()),
            Self::Hidden => None,
        }
    }

    /// How a message refers to `name`, registered for `iso2`.
    #[must_use]
    pub fn refer_to(self, name: &str, iso2: &str) -> String {
        match self {
            Self::Named => name.to_owned(),
            Self::Hidden => format!("an attendee of {iso2}"),
        }
    }
}

/// Everything a seating plan is made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatingRequest {
    /// The meeting, as the plan's title names it.
    pub meeting: String,
    /// The presiding chair, or the co-chairs in the order they sit.
    pub head: Vec<Chair>,
    /// The delegations invited on the meeting's date, participating States and Partners.
    pub invited: Vec<Delegation>,
    pub lot: Lot,
    pub attendees: Vec<Attendee>,
    pub rules: SeatingRules,
    pub plate_names: PlateNames,
    /// Whether the plan (and its errors) may name the people seated.
    pub occupants: Occupants,
}

/// The plan-wide failures; each message says what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SeatingError {
    /// The main table cannot seat the head of the table and one seat per delegation.
    #[error(
        "the main table in {room} has {seats} seats, but this meeting needs {needed}: choose a larger room or change the seating rules"
    )]
    RoomTooSmall { room: String, seats: u32, needed: u32 },
    /// The lot must name a participating State invited to the meeting.
    #[error("the lot names {iso2}, which is not a participating State invited to this meeting")]
    LotNotParticipating { iso2: String },
    /// A chair or an attendee belongs to a State that is not invited.
    #[error("{who} belongs to {iso2}, which is not invited to this meeting")]
    NotInvited { iso2: String, who: String },
    /// The same State appears twice among the invited delegations.
    #[error("{iso2} is invited twice")]
    InvitedTwice { iso2: String },
    /// Two attendees claim a delegation's single seat at the main table.
    #[error("{iso2} has two attendees registered for its seat at the main table: {first} and {second}")]
    MainSeatTakenTwice { iso2: String, first: String, second: String },
    /// More advisers registered than there are seats behind the delegation.
    #[error("{iso2} registered {registered} advisers, but it has {quota} seats behind its delegation")]
    OverQuota { iso2: String, registered: u32, quota: u32 },
    /// Nobody presides.
    #[error("the head of the table needs a chair (\"to be decided\" when not yet known)")]
    NoChair,
}

/// The table shapes Plenary can draw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TableShape {
    /// A large closed oval: the Neuer Saal's main table for the Permanent Council and the FSC.
    Ring,
    /// A U open at the foot, the head at its base: a smaller room, such as the Contact Groups'.
    Horseshoe,
    /// A hollow square with rounded corners, built from the number of seats: a conference abroad.
    Generic,
}

impl TableShape {
    /// The shape of a bundled room's main table: the Neuer Saal's ring, the horseshoes of the
    /// Hofburg's smaller rooms, and a generic table anywhere else.
    #[must_use]
    pub fn for_room(room: &Room) -> Self {
        match room.code.as_str() {
            "HOFBURG-NEUER-SAAL" => Self::Ring,
            "HOFBURG-RATSAAL" | "HOFBURG-SEGMENTGALERIE" => Self::Horseshoe,
            _ => Self::Generic,
        }
    }
}

/// A seat's place in the plan and the direction its occupant faces.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SeatPosition {
    pub x: f64,
    pub y: f64,
    /// Degrees clockwise from "up the page": 180 faces down the page, 90 faces right.
    pub angle: f64,
}

impl SeatPosition {
    /// The unit vector pointing away from the table, behind the occupant.
    #[must_use]
    pub fn outward(&self) -> (f64, f64) {
        let radians = self.angle.to_radians();
        (-radians.sin(), radians.cos())
    }
}

/// A point on the line the main-table seats stand on, with the direction seats there face.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathPoint {
    pub x: f64,
    pub y: f64,
    /// The unit vector towards the inside of the table.
    pub inward: (f64, f64),
}

/// The main table's geometry: a rounded rectangle (a closed ring, or a U open at the foot) whose
/// edge the seats stand on. The head of the table is at the top centre.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TableGeometry {
    pub shape: TableShape,
    /// Half the length of the straight top (and bottom) edge.
    pub half_width: f64,
    /// Half the length of the straight left and right edges.
    pub half_height: f64,
    pub corner_radius: f64,
    /// The distance between neighbouring seats along the table (at least one plan unit).
    pub seat_pitch: f64,
    /// How far a seat's box (name plate and head of delegation) reaches outward.
    pub plate_depth: f64,
    /// How far each row of adviser seats is set back from the row in front of it.
    pub row_pitch: f64,
}

/// A stretch of the seat line.
enum Segment {
    Line {
        from: (f64, f64),
        to: (f64, f64),
        inward: (f64, f64),
    },
    /// Angles in radians, screen convention (y down): the point is `centre + r (cos a, sin a)`.
    Arc {
        centre: (f64, f64),
        radius: f64,
        start: f64,
        sweep: f64,
    },
}

impl Segment {
    fn length(&self) -> f64 {
        match self {
            Self::Line { from, to, .. } => (to.0 - from.0).hypot(to.1 - from.1),
            Self::Arc { radius, sweep, .. } => radius * sweep.abs(),
        }
    }

    /// The point `distance` along the segment, clamped to it.
    fn point(&self, distance: f64) -> PathPoint {
        let length = self.length();
        let t = if length > 0.0 { (distance / length).clamp(0.0, 1.0) } else { 0.0 };
        match *self {
            Self::Line { from, to, inward } => {
                PathPoint { x: from.0 + (to.0 - from.0) * t, y: from.1 + (to.1 - from.1) * t, inward }
            }
            Self::Arc { centre, radius, start, sweep } => {
                let angle = start + sweep * t;
                let (sin, cos) = angle.sin_cos();
                PathPoint { x: centre.0 + radius * cos, y: centre.1 + radius * sin, inward: (-cos, -sin) }
            }
        }
    }
}

impl TableGeometry {
    /// The seat line's stretches in seating order: from the head (top centre) towards the chair's
    /// right (left on the page), round the table and back. A horseshoe has no seats across its
    /// open foot, so its stretches jump from the foot of the left arm to the foot of the right.
    fn segments(&self) -> Vec<Segment> {
        let (hx, hy, r) = (self.half_width, self.half_height, self.corner_radius);
        let top = -(hy + r);
        let bottom = hy + r;
        let quarter = PI / 2.0;
        let mut segments = vec![
            Segment::Line { from: (0.0, top), to: (-hx, top), inward: (0.0, 1.0) },
            Segment::Arc { centre: (-hx, -hy), radius: r, start: -quarter, sweep: -quarter },
            Segment::Line { from: (-hx - r, -hy), to: (-hx - r, hy), inward: (1.0, 0.0) },
        ];
        if self.shape != TableShape::Horseshoe {
            segments.extend([
                Segment::Arc { centre: (-hx, hy), radius: r, start: PI, sweep: -quarter },
                Segment::Line { from: (-hx, bottom), to: (hx, bottom), inward: (0.0, -1.0) },
                Segment::Arc { centre: (hx, hy), radius: r, start: quarter, sweep: -quarter },
            ]);
        }
        segments.extend([
            Segment::Line { from: (hx + r, hy), to: (hx + r, -hy), inward: (-1.0, 0.0) },
            Segment::Arc { centre: (hx, -hy), radius: r, start: 0.0, sweep: -quarter },
            Segment::Line { from: (hx, top), to: (0.0, top), inward: (0.0, 1.0) },
        ]);
        segments.retain(|segment| segment.length() > 0.0);
        segments
    }

    /// The length of the line the main-table seats stand on.
    #[must_use]
    pub fn seated_length(&self) -> f64 {
        self.segments().iter().map(Segment::length).sum()
    }

    /// The point `distance` along the seat line from the head, counting towards the chair's
    /// right (a horseshoe's open foot takes no length).
    #[must_use]
    pub fn point_at(&self, distance: f64) -> PathPoint {
        let segments = self.segments();
        let mut left = distance.max(0.0);
        for segment in &segments {
            let length = segment.length();
            if left <= length {
                return segment.point(left);
            }
            left -= length;
        }
        segments.last().map_or(PathPoint { x: 0.0, y: 0.0, inward: (0.0, 1.0) }, |s| s.point(s.length()))
    }

    /// The table's edge as one continuous line of points, for drawing: a closed ring comes back
    /// to where it started; a horseshoe runs from the foot of its right arm round the head to the
    /// foot of its left arm. Arcs are cut into short straight pieces.
    #[must_use]
    pub fn outline(&self) -> Vec<PathPoint> {
        let mut segments = self.segments();
        if self.shape == TableShape::Horseshoe {
            // Seating order jumps across the open foot; drawing starts just after the jump.
            let right_arm = segments
                .iter()
                .position(|s| matches!(s, Segment::Line { inward, .. } if *inward == (-1.0, 0.0)))
                .or_else(|| segments.iter().position(|s| matches!(s, Segment::Arc { start, .. } if *start == 0.0)))
                .unwrap_or(0);
            segments.rotate_left(right_arm);
        }
        let mut points = Vec::new();
        for segment in &segments {
            let pieces = match segment {
                Segment::Line { .. } => 1,
                Segment::Arc { .. } => 16,
            };
            let length = segment.length();
            for piece in 0..=pieces {
                points.push(segment.point(length * f64::from(piece) / f64::from(pieces)));
            }
        }
        points
    }
}

/// A room's main table with a position for each of its seats; seat 0 is the head of the table
/// and the numbers run towards the chair's right.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoomLayout {
    pub room: String,
    pub table: TableGeometry,
    pub main: Vec<SeatPosition>,
}

/// Lays out a main table of `main_table_seats` seats in the given shape.
#[must_use]
pub fn layout_for(room: &str, main_table_seats: u32, shape: TableShape) -> RoomLayout {
    let n = f64::from(main_table_seats);
    let (half_width, half_height, corner_radius) = match shape {
        // A stadium: half the seats on the two straight sides, half round the two ends.
        TableShape::Ring => {
            let radius = (n / (4.0 * PI)).max(1.0);
            (((n - 2.0 * PI * radius) / 4.0).max(0.0), 0.0, radius)
        }
        // A wide base for the head and two arms, which print well on a landscape page.
        TableShape::Horseshoe => {
            let radius = 2.0;
            let half_width = 0.18 * n;
            (half_width, ((n - PI * radius - 2.0 * half_width) / 4.0).max(0.5), radius)
        }
        TableShape::Generic => {
            let radius = 1.5;
            let straight = (n - 2.0 * PI * radius).max(0.0);
            (0.15 * straight, 0.1 * straight, radius)
        }
    };
    let mut table = TableGeometry {
        shape,
        half_width,
        half_height,
        corner_radius,
        seat_pitch: 1.0,
        plate_depth: PLATE_DEPTH,
        row_pitch: ROW_PITCH,
    };
    let length = table.seated_length();
    table.seat_pitch = if main_table_seats == 0 { 1.0 } else { length / n };
    let main = (0..main_table_seats)
        .map(|seat| {
            let point = table.point_at(f64::from(seat) * table.seat_pitch);
            SeatPosition {
                x: round(point.x),
                y: round(point.y),
                // Rounding may carry 359.9999 up to 360.
                angle: round(facing_angle(point.inward)) % 360.0,
            }
        })
        .collect();
    RoomLayout { room: room.to_owned(), table, main }
}

impl RoomLayout {
    /// The layout of a bundled or organiser-defined room, in the shape [`TableShape::for_room`]
    /// gives it.
    #[must_use]
    pub fn for_room(room: &Room) -> Self {
        layout_for(&room.name, room.main_table_seats, TableShape::for_room(room))
    }

    /// The adviser seat in row `row` (1 = right behind) behind the seat at `seat`.
    #[must_use]
    pub fn behind(&self, seat: &SeatPosition, row: u32) -> SeatPosition {
        let (ox, oy) = seat.outward();
        let distance = self.table.plate_depth + f64::from(row.saturating_sub(1)) * self.table.row_pitch;
        SeatPosition { x: round(seat.x + ox * distance), y: round(seat.y + oy * distance), angle: seat.angle }
    }

    /// A straight row of `count` seats below the main table and its `rows_behind` rows of
    /// advisers, facing the table: where the Partners sit when they are not at the main table.
    #[must_use]
    pub fn partner_row(&self, count: usize, rows_behind: u32) -> Vec<SeatPosition> {
        let reach = self.table.plate_depth + f64::from(rows_behind) * self.table.row_pitch;
        let lowest = self
            .main
            .iter()
            .map(|seat| seat.y + seat.outward().1 * reach + self.table.seat_pitch / 2.0)
            .fold(self.table.half_height + self.table.corner_radius, f64::max);
        let y = round(lowest + ROW_CLEARANCE);
        let middle = (count as f64 - 1.0) / 2.0;
        (0..count)
            .map(|index| SeatPosition { x: round((index as f64 - middle) * self.table.seat_pitch), y, angle: 0.0 })
            .collect()
    }
}

/// The facing angle (degrees clockwise from up the page) of the unit vector `(dx, dy)`.
fn facing_angle((dx, dy): (f64, f64)) -> f64 {
    dx.atan2(-dy).to_degrees().rem_euclid(360.0)
}

/// Plans are printed and compared, so positions keep three decimals.
fn round(value: f64) -> f64 {
    let rounded = (value * 1000.0).round() / 1000.0;
    // No negative zero in the JSON.
    if rounded == 0.0 { 0.0 } else { rounded }
}

/// Where a seat is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatPlace {
    MainTable,
    /// The Partners' own row, when the rules do not seat them at the main table.
    PartnerRow,
    /// An adviser seat behind a delegation's seat.
    Behind,
}

/// Who a seat is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeatKind {
    Chair,
    Official,
    Delegation,
    Adviser,
    /// A main-table seat the meeting does not need.
    Vacant,
}

/// One seat of the plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Seat {
    /// Unique in the plan: the main table's seats first (0 = the head), then the Partners' row,
    /// then the adviser seats.
    pub number: u32,
    pub place: SeatPlace,
    /// For an adviser seat, the number of the seat it is behind.
    pub behind: Option<u32>,
    pub x: f64,
    pub y: f64,
    /// Degrees clockwise from up the page; see [`SeatPosition::angle`].
    pub angle: f64,
    pub kind: SeatKind,
    /// The delegation the seat belongs to; for a chair, the State holding the role (whose
    /// delegation still has its own seat in the ring).
    pub delegation: Option<String>,
    /// Whether that delegation is a participating State or a Partner.
    pub state_kind: Option<StateKind>,
    /// The name plate: the delegation's name, or the chair's or official's role; empty for a
    /// vacant seat.
    pub label: String,
    /// The registered person's name, when someone registered for this seat.
    pub occupant: Option<String>,
}

/// Where everyone sits at one meeting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeatingPlan {
    pub meeting: String,
    pub room: String,
    /// "Order starts with Greece, drawn on 2026-01-05 by the Chairmanship".
    pub lot_note: String,
    pub table: TableGeometry,
    /// The chair(s), then the officials: the main table's first seats.
    pub head: Vec<Seat>,
    /// The delegations' and vacant main-table seats, the Partners' row, then the adviser seats.
    pub seats: Vec<Seat>,
}

impl SeatingPlan {
    /// Every seat, head first, in seat-number order.
    pub fn all_seats(&self) -> impl Iterator<Item = &Seat> {
        self.head.iter().chain(&self.seats)
    }
}

/// Draws the participating State the ring starts with, reproducibly from `seed`.
///
/// Only participating States take part in the draw; they are put in protocol order first, so the
/// result depends on the seed and the set of States, not on the order they are passed in. The
/// seed goes through one round of splitmix64 (Steele, Lea and Flood, "Fast splittable
/// pseudorandom number generators", 2014), a bijection with good avalanche, so neighbouring seeds
/// draw unrelated States; the 64-bit result is mapped onto the States by multiply-and-shift.
/// `None` when no participating State is given.
#[must_use]
pub fn draw_lot(seed: u64, participating: &[Delegation]) -> Option<String> {
    let mut pool: Vec<&Delegation> = participating.iter().filter(|d| d.kind == StateKind::Participating).collect();
    pool.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
    pool.dedup_by(|a, b| a.iso2 == b.iso2);
    let index = (u128::from(splitmix64(seed)) * pool.len() as u128) >> 64;
    pool.get(usize::try_from(index).ok()?).map(|d| d.iso2.clone())
}

/// The participating States a body's lot for `year` is drawn from: every State that is a
/// participating State at some point of the year (on 1 January or on 31 December), in protocol
/// order. The lot is drawn once for the whole year, so it must not depend on which meeting asked
/// first; a State that joins during the year (Mongolia on 21 November 2012) can be drawn.
#[must_use]
pub fn lot_pool(
    states: &[crate::states::State],
    memberships: &[crate::states::Membership],
    year: i32,
) -> Vec<Delegation> {
    let mut pool: Vec<Delegation> = Vec::new();
    for date in [NaiveDate::from_ymd_opt(year, 1, 1), NaiveDate::from_ymd_opt(year, 12, 31)].into_iter().flatten() {
        for delegation in crate::states::delegations_on(states, memberships, date) {
            if delegation.kind == StateKind::Participating && !pool.iter().any(|d| d.iso2 == delegation.iso2) {
                pool.push(delegation);
            }
        }
    }
    sort_in_protocol_order(&mut pool);
    pool
}

/// The invited participating State the ring starts with, given the State drawn by lot (its
/// protocol sort key): the drawn State itself when it is invited, otherwise the next invited
/// participating State after it in protocol order, round the ring (a lot drawn for a year may
/// name a State that joins after the meeting). `None` when no participating State is invited.
#[must_use]
pub fn ring_start(drawn_sort_key: &str, invited: &[Delegation]) -> Option<String> {
    let mut participating: Vec<&Delegation> = invited.iter().filter(|d| d.kind == StateKind::Participating).collect();
    participating.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
    participating
        .iter()
        .find(|d| protocol_cmp(&d.protocol_sort_key, drawn_sort_key) != std::cmp::Ordering::Less)
        .or_else(|| participating.first())
        .map(|d| d.iso2.clone())
}

/// One output of the splitmix64 generator whose state is `seed`.
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Seats a meeting in a room.
///
/// The head of the table takes the first seats (chairs, then the rules' officials); the
/// participating States follow in protocol order as one ring starting with the State drawn by
/// lot, then the invited Partners in protocol order (or in a row of their own when the rules
/// say so); leftover main-table seats stay vacant. Every delegation gets its seat and its quota
/// of adviser seats whether or not it registered anyone; registered names are written on them.
///
/// # Errors
/// [`SeatingError::RoomTooSmall`] when the main table has fewer seats than the head of the table
/// and the delegations seated at it need; [`SeatingError::NoChair`] without a chair;
/// [`SeatingError::InvitedTwice`] for a State listed twice; [`SeatingError::LotNotParticipating`]
/// when the lot is not an invited participating State; [`SeatingError::NotInvited`] for a chair
/// or an attendee of a State not invited; [`SeatingError::MainSeatTakenTwice`] and
/// [`SeatingError::OverQuota`] for registrations the seats cannot hold. With
/// [`Occupants::Hidden`], neither the plan nor these errors name anyone.
pub fn plan_seating(request: &SeatingRequest, layout: &RoomLayout) -> Result<SeatingPlan, SeatingError> {
    if request.head.is_empty() {
        return Err(SeatingError::NoChair);
    }
    for (index, delegation) in request.invited.iter().enumerate() {
        if request.invited[..index].iter().any(|other| other.iso2 == delegation.iso2) {
            return Err(SeatingError::InvitedTwice { iso2: delegation.iso2.clone() });
        }
    }
    let names = request.plate_names;
    let rules = &request.rules;

    let mut participating: Vec<Delegation> =
        request.invited.iter().filter(|d| d.kind == StateKind::Participating).cloned().collect();
    let mut partners: Vec<Delegation> =
        request.invited.iter().filter(|d| d.kind == StateKind::Partner).cloned().collect();
    sort_in_protocol_order(&mut participating);
    sort_in_protocol_order(&mut partners);
    let first = participating
        .iter()
        .position(|d| d.iso2 == request.lot.iso2)
        .ok_or_else(|| SeatingError::LotNotParticipating { iso2: request.lot.iso2.clone() })?;
    let drawn = participating[first].name_en.clone();
    participating.rotate_left(first);
    let lot_note = format!("Order starts with {drawn}, drawn on {} by {}", request.lot.drawn_on, request.lot.drawn_by);

    let find = |iso2: &str, who: String| {
        request
            .invited
            .iter()
            .find(|d| d.iso2 == iso2)
            .ok_or_else(|| SeatingError::NotInvited { iso2: iso2.to_owned(), who })
    };
    let mut head_seats = Vec::new();
    for chair in &request.head {
        let (holder, delegation) = match &chair.iso2 {
            Some(iso2) => {
                let delegation = find(iso2, format!("the {}", chair.role))?;
                (plate_name(delegation, names), Some(delegation))
            }
            None => ("to be decided".to_owned(), None),
        };
        head_seats.push((
            SeatKind::Chair,
            format!("{} ({holder})", chair.role),
            delegation.map(|d| (d.iso2.clone(), d.kind)),
            chair.name.as_deref().and_then(|name| request.occupants.seat_name(name)),
        ));
    }
    for official in &rules.officials {
        head_seats.push((SeatKind::Official, official.clone(), None, None));
    }

    let registrations = Registrations::collect(request, rules.seats_behind, |iso2, who| find(iso2, who).map(|_| ()))?;

    let at_table: Vec<&Delegation> = if rules.partners_at_main_table {
        participating.iter().chain(&partners).collect()
    } else {
        participating.iter().collect()
    };
    let needed = head_seats.len() + at_table.len();
    if layout.main.len() < needed {
        return Err(SeatingError::RoomTooSmall {
            room: layout.room.clone(),
            seats: count(layout.main.len()),
            needed: count(needed),
        });
    }

    let seat_at = |number: usize, place: SeatPlace, position: &SeatPosition, kind: SeatKind| Seat {
        number: count(number),
        place,
        behind: None,
        x: position.x,
        y: position.y,
        angle: position.angle,
        kind,
        delegation: None,
        state_kind: None,
        label: String::new(),
        occupant: None,
    };
    let mut head = Vec::new();
    let mut seats = Vec::new();
    for (number, position) in layout.main.iter().enumerate() {
        if let Some((kind, label, delegation, occupant)) = head_seats.get(number) {
            head.push(Seat {
                delegation: delegation.as_ref().map(|(iso2, _)| iso2.clone()),
                state_kind: delegation.as_ref().map(|(_, kind)| *kind),
                label: label.clone(),
                occupant: occupant.clone(),
                ..seat_at(number, SeatPlace::MainTable, position, *kind)
            });
        } else if let Some(delegation) = at_table.get(number - head_seats.len()) {
            seats.push(delegation_seat(
                seat_at(number, SeatPlace::MainTable, position, SeatKind::Delegation),
                delegation,
                names,
                &registrations,
                request.occupants,
            ));
        } else {
            seats.push(seat_at(number, SeatPlace::MainTable, position, SeatKind::Vacant));
        }
    }
    if !rules.partners_at_main_table {
        let row = layout.partner_row(partners.len(), rules.seats_behind);
        for (index, (delegation, position)) in partners.iter().zip(&row).enumerate() {
            let seat = seat_at(layout.main.len() + index, SeatPlace::PartnerRow, position, SeatKind::Delegation);
            seats.push(delegation_seat(seat, delegation, names, &registrations, request.occupants));
        }
    }

    let mut advisers = Vec::new();
    for seat in seats.iter().filter(|seat| seat.kind == SeatKind::Delegation) {
        let position = SeatPosition { x: seat.x, y: seat.y, angle: seat.angle };
        let names_behind = seat.delegation.as_deref().map_or(&[][..], |iso2| registrations.behind(iso2));
        for row in 1..=rules.seats_behind {
            let at = layout.behind(&position, row);
            let number = head.len() + seats.len() + advisers.len();
            advisers.push(Seat {
                behind: Some(seat.number),
                delegation: seat.delegation.clone(),
                state_kind: seat.state_kind,
                label: seat.label.clone(),
                occupant: usize::try_from(row - 1)
                    .ok()
                    .and_then(|i| names_behind.get(i))
                    .and_then(|name| request.occupants.seat_name(name)),
                ..seat_at(number, SeatPlace::Behind, &at, SeatKind::Adviser)
            });
        }
    }
    seats.extend(advisers);

    Ok(SeatingPlan {
        meeting: request.meeting.clone(),
        room: layout.room.clone(),
        lot_note,
        table: layout.table.clone(),
        head,
        seats,
    })
}

/// A delegation's own seat, with its head of delegation's name when registered and `occupants`
/// allows names.
fn delegation_seat(
    seat: Seat,
    delegation: &Delegation,
    names: PlateNames,
    registrations: &Registrations,
    occupants: Occupants,
) -> Seat {
    Seat {
        delegation: Some(delegation.iso2.clone()),
        state_kind: Some(delegation.kind),
        label: plate_name(delegation, names),
        occupant: registrations.main(&delegation.iso2).and_then(|name| occupants.seat_name(name)),
        ..seat
    }
}

/// The name on a delegation's plate.
fn plate_name(delegation: &Delegation, names: PlateNames) -> String {
    match names {
        PlateNames::English => delegation.name_en.clone(),
        PlateNames::French => delegation.name_fr.clone(),
        PlateNames::EnglishAndFrench if delegation.name_en == delegation.name_fr => delegation.name_en.clone(),
        PlateNames::EnglishAndFrench => format!("{} / {}", delegation.name_en, delegation.name_fr),
    }
}

/// The registered names by delegation, checked against the seats there are.
struct Registrations {
    /// `(iso2, head of delegation, advisers in registration order)`.
    by_delegation: Vec<(String, Option<String>, Vec<String>)>,
}

impl Registrations {
    fn collect(
        request: &SeatingRequest,
        quota: u32,
        invited: impl Fn(&str, String) -> Result<(), SeatingError>,
    ) -> Result<Self, SeatingError> {
        let mut by_delegation: Vec<(String, Option<String>, Vec<String>)> = Vec::new();
        for attendee in &request.attendees {
            invited(&attendee.iso2, request.occupants.refer_to(&attendee.name, &attendee.iso2))?;
            let index = match by_delegation.iter().position(|(iso2, _, _)| *iso2 == attendee.iso2) {
                Some(index) => index,
                None => {
                    by_delegation.push((attendee.iso2.clone(), None, Vec::new()));
                    by_delegation.len() - 1
                }
            };
            let (iso2, main, behind) = &mut by_delegation[index];
            match attendee.seat {
                AttendeeSeat::Main => {
                    if let Some(first) = main {
                        return Err(SeatingError::MainSeatTakenTwice {
                            iso2: iso2.clone(),
                            first: request.occupants.refer_to(first, iso2),
                            second: request.occupants.refer_to(&attendee.name, iso2),
                        });
                    }
                    *main = Some(attendee.name.clone());
                }
                AttendeeSeat::Behind => {
                    behind.push(attendee.name.clone());
                    if count(behind.len()) > quota {
                        return Err(SeatingError::OverQuota {
                            iso2: iso2.clone(),
                            registered: count(behind.len()),
                            quota,
                        });
                    }
                }
            }
        }
        Ok(Self { by_delegation })
    }

    fn main(&self, iso2: &str) -> Option<&str> {
        self.by_delegation.iter().find(|(i, _, _)| i == iso2).and_then(|(_, main, _)| main.as_deref())
    }

    fn behind(&self, iso2: &str) -> &[String] {
        self.by_delegation.iter().find(|(i, _, _)| i == iso2).map_or(&[], |(_, _, behind)| behind.as_slice())
    }
}

/// Counts shown in plans and messages; no plan comes near `u32::MAX` seats, and one that did
/// would saturate rather than wrap.
fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Writes the plan as CSV (RFC 4180: comma-separated, CRLF line ends, fields with commas, quotes
/// or line breaks in double quotes, quotes doubled), one seat a row in seat-number order.
///
/// Names come from registrations, so the plan is written by [`crate::text::Csv`], which keeps
/// spreadsheets from running a cell as a formula.
#[must_use]
pub fn to_csv(plan: &SeatingPlan) -> String {
    let mut csv = crate::text::Csv::with_header(&[
        "seat",
        "place",
        "behind_seat",
        "x",
        "y",
        "angle",
        "kind",
        "delegation",
        "label",
        "occupant",
    ]);
    for seat in plan.all_seats() {
        let place = match seat.place {
            SeatPlace::MainTable => "main_table",
            SeatPlace::PartnerRow => "partner_row",
            SeatPlace::Behind => "behind",
        };
        let kind = match seat.kind {
            SeatKind::Chair => "chair",
            SeatKind::Official => "official",
            SeatKind::Delegation => "delegation",
            SeatKind::Adviser => "adviser",
            SeatKind::Vacant => "vacant",
        };
        csv.row([
            seat.number.to_string(),
            place.to_owned(),
            seat.behind.map(|n| n.to_string()).unwrap_or_default(),
            format!("{:.3}", seat.x),
            format!("{:.3}", seat.y),
            format!("{:.1}", seat.angle),
            kind.to_owned(),
            seat.delegation.clone().unwrap_or_default(),
            seat.label.clone(),
            seat.occupant.clone().unwrap_or_default(),
        ]);
    }
    csv.finish()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::reference::ReferenceData;
    use crate::states::delegations_on;
    use proptest::prelude::*;

    pub(crate) fn invited_on(date: &str) -> Vec<Delegation> {
        let data = ReferenceData::bundled();
        delegations_on(&data.states, &data.memberships, date.parse().unwrap())
    }

    pub(crate) fn room(name: &str) -> Room {
        ReferenceData::bundled().rooms.into_iter().find(|room| room.name == name).unwrap()
    }

    pub(crate) fn request(invited: Vec<Delegation>, chair: &str, lot: &str) -> SeatingRequest {
        SeatingRequest {
            meeting: "Permanent Council".into(),
            head: vec![Chair { role: "Chairperson-in-Office".into(), iso2: Some(chair.into()), name: None }],
            invited,
            lot: Lot { iso2: lot.into(), drawn_on: "2026-01-05".parse().unwrap(), drawn_by: "the Chairmanship".into() },
            attendees: Vec::new(),
            rules: SeatingRules { officials: vec!["Secretary General".into()], ..SeatingRules::default() },
            plate_names: PlateNames::English,
            occupants: Occupants::Named,
        }
    }

    /// The main-table (or Partners' row) seat numbers of the delegations, by iso2.
    fn seat_of(plan: &SeatingPlan, iso2: &str) -> u32 {
        let seats: Vec<u32> = plan
            .seats
            .iter()
            .filter(|s| s.kind == SeatKind::Delegation && s.delegation.as_deref() == Some(iso2))
            .map(|s| s.number)
            .collect();
        assert_eq!(seats.len(), 1, "{iso2}: {seats:?}");
        seats[0]
    }

    fn ring(plan: &SeatingPlan, kind: StateKind) -> Vec<String> {
        plan.seats
            .iter()
            .filter(|s| s.kind == SeatKind::Delegation && s.state_kind == Some(kind))
            .filter_map(|s| s.delegation.clone())
            .collect()
    }

    /// A random meeting: a random subset of the delegations on a random date since 1995, a
    /// random lot, head of the table, rules, registrations and room (sometimes too small).
    /// Gives the request, the layout and the seats the meeting needs.
    pub(crate) fn arbitrary_meeting() -> impl Strategy<Value = (SeatingRequest, RoomLayout, usize)> {
        (
            0i64..(32 * 365),
            proptest::collection::vec(any::<bool>(), 69),
            any::<u64>(),
            (-3i64..16, 0u32..4, any::<bool>(), 0usize..3, 1usize..3, 0usize..3),
            proptest::collection::vec((0usize..69, any::<bool>()), 0..40),
            0usize..3,
        )
            .prop_map(
                |(
                    day,
                    mask,
                    seed,
                    (spare, quota, partners_at_main_table, officials, chairs, shape),
                    registrations,
                    names,
                )| {
                    let date = NaiveDate::from_ymd_opt(1995, 1, 1).unwrap() + chrono::Duration::days(day);
                    let all = invited_on(&date.to_string());
                    let mut invited: Vec<Delegation> =
                        all.iter().zip(&mask).filter(|(_, keep)| **keep).map(|(d, _)| d.clone()).collect();
                    if !invited.iter().any(|d| d.kind == StateKind::Participating) {
                        invited.extend(all.iter().find(|d| d.kind == StateKind::Participating).cloned());
                    }
                    // Protocol order must not depend on the order delegations are passed in.
                    invited.reverse();
                    let lot = draw_lot(seed, &invited).unwrap();
                    let mut head =
                        vec![Chair { role: "Chairperson-in-Office".into(), iso2: Some(lot.clone()), name: None }];
                    if chairs > 1 {
                        head.push(Chair { role: "Co-Chair".into(), iso2: None, name: Some("Co-Chair Person".into()) });
                    }
                    let rules = SeatingRules {
                        partners_at_main_table,
                        officials: (0..officials).map(|i| format!("Official {i}")).collect(),
                        seats_behind: quota,
                    };
                    let mut attendees: Vec<Attendee> = Vec::new();
                    for (index, (pick, main)) in registrations.into_iter().enumerate() {
                        let iso2 = invited[pick % invited.len()].iso2.clone();
                        let mine = |seat| attendees.iter().filter(|a| a.iso2 == iso2 && a.seat == seat).count();
                        let seat = if main && mine(AttendeeSeat::Main) == 0 {
                            AttendeeSeat::Main
                        } else if count(mine(AttendeeSeat::Behind)) < quota {
                            AttendeeSeat::Behind
                        } else {
                            continue;
                        };
                        attendees.push(Attendee { iso2, name: format!("Person {index}"), seat });
                    }
                    let participating = invited.iter().filter(|d| d.kind == StateKind::Participating).count();
                    let partners = invited.len() - participating;
                    let needed =
                        head.len() + officials + participating + if partners_at_main_table { partners } else { 0 };
                    let seats = u32::try_from((needed as i64 + spare).max(0)).unwrap();
                    let shape = [TableShape::Ring, TableShape::Horseshoe, TableShape::Generic][shape];
                    let plate_names = [PlateNames::English, PlateNames::French, PlateNames::EnglishAndFrench][names];
                    let request = SeatingRequest {
                        meeting: format!("Meeting on {date}"),
                        head,
                        invited,
                        lot: Lot { iso2: lot, drawn_on: date, drawn_by: "the Chairmanship".into() },
                        attendees,
                        rules,
                        plate_names,
                        occupants: Occupants::Named,
                    };
                    (request, layout_for("Room", seats, shape), needed)
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(128))]

        #[test]
        fn every_delegation_is_seated_once_in_protocol_order_from_the_lot((request, layout, needed) in arbitrary_meeting()) {
            let result = plan_seating(&request, &layout);
            if layout.main.len() < needed {
                prop_assert_eq!(
                    result,
                    Err(SeatingError::RoomTooSmall { room: "Room".into(), seats: count(layout.main.len()), needed: count(needed) })
                );
                return Ok(());
            }
            let plan = result.unwrap();
            let rules = &request.rules;
            let all: Vec<&Seat> = plan.all_seats().collect();

            // Seat numbers are unique and run 0.. with the head first.
            let numbers: Vec<u32> = all.iter().map(|s| s.number).collect();
            prop_assert_eq!(numbers, (0..count(all.len())).collect::<Vec<_>>());
            prop_assert_eq!(plan.head.len(), request.head.len() + rules.officials.len());
            prop_assert!(plan.head.iter().all(|s| s.place == SeatPlace::MainTable));
            prop_assert_eq!(
                all.iter().filter(|s| s.place == SeatPlace::MainTable).count(),
                layout.main.len(),
                "every main-table seat is in the plan"
            );

            // Every invited delegation: exactly one own seat, at the main table unless the rules
            // seat Partners apart, and no more adviser seats than the quota.
            for delegation in &request.invited {
                let own: Vec<&&Seat> = all
                    .iter()
                    .filter(|s| s.kind == SeatKind::Delegation && s.delegation.as_deref() == Some(delegation.iso2.as_str()))
                    .collect();
                prop_assert_eq!(own.len(), 1, "{}", delegation.iso2);
                let expected = if delegation.kind == StateKind::Partner && !rules.partners_at_main_table {
                    SeatPlace::PartnerRow
                } else {
                    SeatPlace::MainTable
                };
                prop_assert_eq!(own[0].place, expected);
                prop_assert!(!own[0].label.is_empty());
                let advisers = all.iter().filter(|s| s.behind == Some(own[0].number)).count();
                prop_assert_eq!(count(advisers), rules.seats_behind);
            }
            prop_assert_eq!(
                all.iter().filter(|s| s.kind == SeatKind::Delegation).count(),
                request.invited.len(),
                "no seat for anyone not invited"
            );

            // No seat holds two people, and every registered person has exactly one seat.
            for attendee in &request.attendees {
                let seated: Vec<&&Seat> = all.iter().filter(|s| s.occupant.as_deref() == Some(attendee.name.as_str())).collect();
                prop_assert_eq!(seated.len(), 1, "{}", attendee.name);
                prop_assert_eq!(seated[0].delegation.as_deref(), Some(attendee.iso2.as_str()));
                let kind = if attendee.seat == AttendeeSeat::Main { SeatKind::Delegation } else { SeatKind::Adviser };
                prop_assert_eq!(seated[0].kind, kind);
            }
            for (index, a) in all.iter().enumerate() {
                for b in &all[index + 1..] {
                    prop_assert!((a.x - b.x).abs() > 1e-6 || (a.y - b.y).abs() > 1e-6, "seats {} and {} coincide", a.number, b.number);
                }
            }

            // The participating States: protocol order, as a ring starting at the lot.
            let mut expected: Vec<Delegation> =
                request.invited.iter().filter(|d| d.kind == StateKind::Participating).cloned().collect();
            expected.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
            let start = expected.iter().position(|d| d.iso2 == request.lot.iso2).unwrap();
            expected.rotate_left(start);
            let expected: Vec<String> = expected.into_iter().map(|d| d.iso2).collect();
            let states = ring(&plan, StateKind::Participating);
            prop_assert_eq!(&states, &expected);
            let first = plan.seats.iter().find(|s| s.kind == SeatKind::Delegation).map(|s| s.number);
            prop_assert_eq!(first, Some(count(plan.head.len())), "the lot's State sits right after the head");

            // The Partners: all after the participating States, in protocol order.
            let last_state = plan.seats.iter().filter(|s| s.state_kind == Some(StateKind::Participating) && s.kind == SeatKind::Delegation).map(|s| s.number).max();
            let partner_seats: Vec<&Seat> = plan.seats.iter().filter(|s| s.state_kind == Some(StateKind::Partner) && s.kind == SeatKind::Delegation).collect();
            prop_assert!(partner_seats.iter().all(|s| Some(s.number) > last_state));
            let mut sorted: Vec<&Delegation> = request.invited.iter().filter(|d| d.kind == StateKind::Partner).collect();
            sorted.sort_by(|a, b| protocol_cmp(&a.protocol_sort_key, &b.protocol_sort_key));
            prop_assert_eq!(ring(&plan, StateKind::Partner), sorted.iter().map(|d| d.iso2.clone()).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_small_plan_as_json() {
        let keep = ["AT", "CH", "DE", "US", "JP"];
        let invited: Vec<Delegation> =
            invited_on("2026-05-20").into_iter().filter(|d| keep.contains(&d.iso2.as_str())).collect();
        let mut request = request(invited, "CH", "DE");
        request.meeting = "Troika meeting with the Partners".into();
        request.rules.seats_behind = 1;
        request.plate_names = PlateNames::EnglishAndFrench;
        request.attendees = vec![
            Attendee { iso2: "US".into(), name: "Jane Doe".into(), seat: AttendeeSeat::Main },
            Attendee { iso2: "JP".into(), name: "Sato Hanako".into(), seat: AttendeeSeat::Behind },
        ];
        let plan = plan_seating(&request, &layout_for("Salle des conférences", 8, TableShape::Generic)).unwrap();
        insta::assert_snapshot!(serde_json::to_string_pretty(&plan).unwrap());
    }

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // The first outputs of the reference generator seeded with 0 are its state 0 + k·γ mixed.
        assert_eq!(splitmix64(0), 0xE220_A839_7B1D_CDAF);
        assert_eq!(splitmix64(0x9E37_79B9_7F4A_7C15), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn the_lot_is_reproducible_ignores_input_order_and_partners() {
        let invited = invited_on("2026-11-27");
        let mut shuffled = invited.clone();
        shuffled.reverse();
        for seed in 0..50 {
            let drawn = draw_lot(seed, &invited).unwrap();
            assert_eq!(draw_lot(seed, &shuffled).as_deref(), Some(drawn.as_str()));
            assert!(invited.iter().any(|d| d.iso2 == drawn && d.kind == StateKind::Participating));
        }
        let drawn: std::collections::BTreeSet<String> = (0..2000).filter_map(|seed| draw_lot(seed, &invited)).collect();
        assert_eq!(drawn.len(), 57, "every participating State can be drawn");
        let partners: Vec<Delegation> = invited.into_iter().filter(|d| d.kind == StateKind::Partner).collect();
        assert_eq!(draw_lot(7, &partners), None);
    }

    #[test]
    fn the_lot_is_drawn_from_the_whole_years_states_and_the_ring_starts_at_the_next_one_invited() {
        let data = ReferenceData::bundled();
        let pool_2012 = lot_pool(&data.states, &data.memberships, 2012);
        assert_eq!(pool_2012.len(), 57, "Mongolia joined on 21 November 2012 and can be drawn for 2012");
        assert_eq!(lot_pool(&data.states, &data.memberships, 2010).len(), 56);
        let mongolia = pool_2012.iter().find(|d| d.iso2 == "MN").unwrap();
        // In March 2012 Mongolia is a Partner: the ring starts with the next State, Monténégro.
        let march = invited_on("2012-03-15");
        assert_eq!(ring_start(&mongolia.protocol_sort_key, &march).as_deref(), Some("ME"));
        assert_eq!(ring_start(&mongolia.protocol_sort_key, &invited_on("2012-12-13")).as_deref(), Some("MN"));
        // Past the last State in protocol order, the ring comes round to the first.
        assert_eq!(ring_start("Zzz", &march).as_deref(), Some("AL"));
        let partners: Vec<Delegation> = march.into_iter().filter(|d| d.kind == StateKind::Partner).collect();
        assert_eq!(ring_start("Allemagne", &partners), None);
    }

    #[test]
    fn default_rules_seat_the_secretary_general_at_the_pc_only_and_officials_are_matched_loosely() {
        let pc = SeatingRules::defaults_for(crate::bodies::body("PC").unwrap());
        assert_eq!(pc.officials, ["Secretary General"]);
        assert!(pc.partners_at_main_table);
        assert_eq!(pc.seats_behind, 2);
        assert!(SeatingRules::defaults_for(crate::bodies::body("CG-ASIA").unwrap()).officials.is_empty());
        assert_eq!(known_official(" director of odihr "), Some("Director of ODIHR"));
        assert_eq!(known_official("Emperor"), None);
    }

    #[test]
    fn permanent_council_on_27_november_2026_in_the_neuer_saal() {
        let layout = RoomLayout::for_room(&room("Neuer Saal"));
        assert_eq!(layout.main.len(), 84);
        assert_eq!(layout.table.shape, TableShape::Ring);
        let plan = plan_seating(&request(invited_on("2026-11-27"), "CH", "GR"), &layout).unwrap();

        assert_eq!(plan.head.len(), 2);
        assert_eq!((plan.head[0].number, plan.head[0].kind), (0, SeatKind::Chair));
        assert_eq!(plan.head[0].label, "Chairperson-in-Office (Switzerland)");
        assert_eq!((plan.head[1].kind, plan.head[1].label.as_str()), (SeatKind::Official, "Secretary General"));
        assert_eq!(plan.lot_note, "Order starts with Greece, drawn on 2026-01-05 by the Chairmanship");

        let participating = ring(&plan, StateKind::Participating);
        let partners = ring(&plan, StateKind::Partner);
        assert_eq!((participating.len(), partners.len()), (57, 11));
        assert_eq!(seat_of(&plan, "GR"), 2, "the drawn State sits right after the head of the table");
        assert_eq!(seat_of(&plan, "US"), seat_of(&plan, "DE") + 1);
        assert_eq!(seat_of(&plan, "AL"), seat_of(&plan, "UA") + 1, "after Ukraine comes Albania again");
        // Grande-Bretagne closes the ring that Grèce opened: GE, GB, then GR.
        assert_eq!(seat_of(&plan, "GB"), seat_of(&plan, "GE") + 1);
        assert_eq!(participating.last().map(String::as_str), Some("GB"));
        assert_eq!(seat_of(&plan, "RU"), seat_of(&plan, "RO") + 1);
        assert_eq!(seat_of(&plan, "SM"), seat_of(&plan, "RU") + 1);
        assert_eq!(seat_of(&plan, "CH"), seat_of(&plan, "SE") + 1, "the Chairmanship keeps its national seat");
        assert_eq!(
            partners,
            ["AF", "DZ", "AU", "EG", "IL", "JP", "JO", "MA", "KR", "TH", "TN"].map(String::from),
            "Partners in protocol order (République de Corée under R)"
        );
        assert_eq!(seat_of(&plan, "AF"), 59);
        let vacant = plan.seats.iter().filter(|s| s.kind == SeatKind::Vacant).map(|s| s.number).collect::<Vec<_>>();
        assert_eq!(vacant, (70..84).collect::<Vec<_>>());
        assert_eq!(plan.seats.iter().filter(|s| s.kind == SeatKind::Adviser).count(), 68 * 2);
    }

    #[test]
    fn contact_group_with_the_asian_partners_in_a_horseshoe() {
        let invited: Vec<Delegation> = invited_on("2026-03-12")
            .into_iter()
            .filter(|d| {
                d.kind == StateKind::Participating || d.partner_group == Some(crate::states::PartnerGroup::Asian)
            })
            .collect();
        let mut request = request(invited, "FI", "KZ");
        request.meeting = "Contact Group with the Asian Partners".into();
        request.head[0].role = "Chair of the Contact Group with the Asian Partners".into();
        request.rules.officials.clear();

        let small = plan_seating(&request, &RoomLayout::for_room(&room("Segmentgalerie"))).unwrap_err();
        assert_eq!(small, SeatingError::RoomTooSmall { room: "Segmentgalerie".into(), seats: 40, needed: 63 });
        let message = small.to_string();
        assert!(message.contains("Segmentgalerie") && message.contains("40") && message.contains("63"), "{message}");

        let layout = RoomLayout::for_room(&room("Ratsaal"));
        assert_eq!(layout.table.shape, TableShape::Horseshoe);
        let plan = plan_seating(&request, &layout).unwrap();
        assert_eq!(plan.head[0].label, "Chair of the Contact Group with the Asian Partners (Finland)");
        assert_eq!(seat_of(&plan, "KZ"), 1);
        assert_eq!(ring(&plan, StateKind::Partner), ["AF", "AU", "JP", "KR", "TH"].map(String::from));
        assert_eq!(seat_of(&plan, "AF"), 58);
        assert_eq!(plan.seats.iter().filter(|s| s.kind == SeatKind::Vacant).count(), 72 - 63);
    }

    #[test]
    fn mongolia_sits_as_a_partner_in_2010_and_as_a_participating_state_in_2013() {
        let layout = RoomLayout::for_room(&room("Neuer Saal"));
        let in_2010 = plan_seating(&request(invited_on("2010-03-11"), "KZ", "AL"), &layout).unwrap();
        assert_eq!(ring(&in_2010, StateKind::Participating).len(), 56);
        let partners = ring(&in_2010, StateKind::Partner);
        assert!(partners.contains(&"MN".to_owned()), "{partners:?}");
        assert_eq!(seat_of(&in_2010, "MN"), seat_of(&in_2010, "MA") + 1, "Mongolie after Maroc among the Partners");
        assert!(seat_of(&in_2010, "MN") > seat_of(&in_2010, "UA"));

        let in_2013 = plan_seating(&request(invited_on("2013-03-14"), "UA", "AL"), &layout).unwrap();
        assert_eq!(ring(&in_2013, StateKind::Participating).len(), 57);
        assert_eq!(seat_of(&in_2013, "MN"), seat_of(&in_2013, "MC") + 1);
        assert_eq!(seat_of(&in_2013, "ME"), seat_of(&in_2013, "MN") + 1);
    }

    #[test]
    fn registered_names_are_written_on_their_seats_and_everyone_else_still_gets_a_plate() {
        let mut request = request(invited_on("2026-11-27"), "CH", "AT");
        request.head = vec![
            Chair { role: "Co-Chair".into(), iso2: Some("CH".into()), name: Some("A. Swiss".into()) },
            Chair { role: "Co-Chair".into(), iso2: None, name: None },
        ];
        request.attendees = vec![
            Attendee { iso2: "DE".into(), name: "Anna Berger".into(), seat: AttendeeSeat::Main },
            Attendee { iso2: "DE".into(), name: "Bernd Christ".into(), seat: AttendeeSeat::Behind },
            Attendee { iso2: "JP".into(), name: "Sato Hanako".into(), seat: AttendeeSeat::Behind },
        ];
        let plan = plan_seating(&request, &RoomLayout::for_room(&room("Neuer Saal"))).unwrap();
        assert_eq!(plan.head[0].occupant.as_deref(), Some("A. Swiss"));
        assert_eq!(plan.head[1].label, "Co-Chair (to be decided)");
        assert_eq!((plan.head[2].kind, plan.head.len()), (SeatKind::Official, 3));
        let de = seat_of(&plan, "DE");
        let seat = |n: u32| plan.all_seats().find(|s| s.number == n).unwrap();
        assert_eq!(seat(de).occupant.as_deref(), Some("Anna Berger"));
        let behind_de: Vec<_> = plan.seats.iter().filter(|s| s.behind == Some(de)).collect();
        assert_eq!(behind_de.len(), 2);
        assert_eq!(behind_de[0].occupant.as_deref(), Some("Bernd Christ"));
        assert_eq!(behind_de[1].occupant, None);
        assert_eq!(seat(seat_of(&plan, "JP")).occupant, None, "a plate without a registered head of delegation");
    }

    #[test]
    fn a_plan_for_anyone_has_the_same_plates_and_no_names() {
        let mut named = request(invited_on("2026-11-27"), "CH", "AT");
        named.head[0].name = Some("A. Swiss".into());
        named.attendees = vec![
            Attendee { iso2: "DE".into(), name: "Anna Berger".into(), seat: AttendeeSeat::Main },
            Attendee { iso2: "DE".into(), name: "Bernd Christ".into(), seat: AttendeeSeat::Behind },
        ];
        let hidden = SeatingRequest { occupants: Occupants::Hidden, ..named.clone() };
        let layout = RoomLayout::for_room(&room("Neuer Saal"));
        let (with_names, without) = (plan_seating(&named, &layout).unwrap(), plan_seating(&hidden, &layout).unwrap());
        assert_eq!(with_names.all_seats().filter(|seat| seat.occupant.is_some()).count(), 3);
        assert!(without.all_seats().all(|seat| seat.occupant.is_none()));
        let plates = |plan: &SeatingPlan| plan.all_seats().map(|seat| seat.label.clone()).collect::<Vec<_>>();
        assert_eq!(plates(&with_names), plates(&without));
        assert_eq!(to_csv(&without).matches("Anna Berger").count(), 0);

        let twice = SeatingRequest {
            attendees: vec![
                Attendee { iso2: "FR".into(), name: "Un Secret".into(), seat: AttendeeSeat::Main },
                Attendee { iso2: "FR".into(), name: "Deux Secret".into(), seat: AttendeeSeat::Main },
            ],
            ..hidden.clone()
        };
        let message = plan_seating(&twice, &layout).unwrap_err().to_string();
        assert!(message.contains("FR") && !message.contains("Secret"), "{message}");
        let stranger = SeatingRequest {
            attendees: vec![Attendee { iso2: "ZZ".into(), name: "Nobody Secret".into(), seat: AttendeeSeat::Main }],
            ..hidden
        };
        let message = plan_seating(&stranger, &layout).unwrap_err().to_string();
        assert!(message.contains("ZZ") && !message.contains("Secret"), "{message}");
    }

    #[test]
    fn registrations_the_seats_cannot_hold_are_errors_not_dropped() {
        let layout = RoomLayout::for_room(&room("Neuer Saal"));
        let base = request(invited_on("2026-11-27"), "CH", "AT");
        let with = |attendees: Vec<Attendee>| SeatingRequest { attendees, ..base.clone() };
        let a = |iso2: &str, name: &str, seat| Attendee { iso2: iso2.into(), name: name.into(), seat };
        let over = with(vec![
            a("FR", "Un", AttendeeSeat::Behind),
            a("FR", "Deux", AttendeeSeat::Behind),
            a("FR", "Trois", AttendeeSeat::Behind),
        ]);
        assert_eq!(
            plan_seating(&over, &layout),
            Err(SeatingError::OverQuota { iso2: "FR".into(), registered: 3, quota: 2 })
        );
        let twice = with(vec![a("FR", "Un", AttendeeSeat::Main), a("FR", "Deux", AttendeeSeat::Main)]);
        assert!(matches!(plan_seating(&twice, &layout), Err(SeatingError::MainSeatTakenTwice { .. })));
        let stranger = with(vec![a("ZZ", "Nobody", AttendeeSeat::Main)]);
        assert_eq!(
            plan_seating(&stranger, &layout),
            Err(SeatingError::NotInvited { iso2: "ZZ".into(), who: "Nobody".into() })
        );
        let partner_lot = SeatingRequest { lot: Lot { iso2: "JP".into(), ..base.lot.clone() }, ..base.clone() };
        assert_eq!(plan_seating(&partner_lot, &layout), Err(SeatingError::LotNotParticipating { iso2: "JP".into() }));
        let unknown_chair = SeatingRequest {
            head: vec![Chair { role: "Chairperson-in-Office".into(), iso2: Some("XX".into()), name: None }],
            ..base.clone()
        };
        assert!(matches!(plan_seating(&unknown_chair, &layout), Err(SeatingError::NotInvited { .. })));
        let mut doubled = base.clone();
        doubled.invited.push(doubled.invited[3].clone());
        assert!(matches!(plan_seating(&doubled, &layout), Err(SeatingError::InvitedTwice { .. })));
        let nobody = SeatingRequest { head: Vec::new(), ..base };
        assert_eq!(plan_seating(&nobody, &layout), Err(SeatingError::NoChair));
    }

    #[test]
    fn partners_can_sit_in_a_row_of_their_own() {
        // 2 at the head + 57 participating States fit 62 seats; with the 11 Partners they would not.
        let layout = layout_for("Salle des conférences", 62, TableShape::Generic);
        let mut request = request(invited_on("2026-11-27"), "CH", "AL");
        request.rules.partners_at_main_table = false;
        let plan = plan_seating(&request, &layout).unwrap();
        let row: Vec<&Seat> = plan.seats.iter().filter(|s| s.place == SeatPlace::PartnerRow).collect();
        assert_eq!(row.len(), 11);
        assert!(row.iter().all(|s| s.state_kind == Some(StateKind::Partner) && s.number >= 62));
        let lowest_at_table =
            plan.seats.iter().filter(|s| s.behind.is_some_and(|b| b < 62)).map(|s| s.y).fold(f64::MIN, f64::max);
        assert!(row.iter().all(|s| s.y > lowest_at_table));
        assert_eq!(plan.seats.iter().filter(|s| s.behind.is_some_and(|b| b >= 62)).count(), 22);

        request.rules.partners_at_main_table = true;
        assert_eq!(
            plan_seating(&request, &layout).unwrap_err().to_string(),
            "the main table in Salle des conférences has 62 seats, but this meeting needs 70: \
             choose a larger room or change the seating rules"
        );
    }

    #[test]
    fn layouts_start_at_the_head_and_turn_to_the_chairs_right() {
        for shape in [TableShape::Ring, TableShape::Horseshoe, TableShape::Generic] {
            for seats in [1, 5, 12, 40, 84, 120] {
                let layout = layout_for("Room", seats, shape);
                assert_eq!(layout.main.len(), seats as usize);
                let head = layout.main[0];
                assert_eq!((head.x, head.angle), (0.0, 180.0), "{shape:?} {seats}: the head faces down the table");
                assert!(layout.main.iter().all(|s| s.y >= head.y - 1e-9), "{shape:?}: nobody above the head");
                if seats > 4 {
                    assert!(layout.main[1].x < 0.0, "{shape:?}: the chair's right is the left of the page");
                }
                for (a, b) in layout.main.iter().zip(layout.main.iter().skip(1)) {
                    let distance = (a.x - b.x).hypot(a.y - b.y);
                    assert!(distance > 0.5, "{shape:?} {seats}: seats {a:?} and {b:?} too close");
                }
                assert!(layout.table.seat_pitch >= 1.0 - 1e-9);
            }
        }
    }

    #[test]
    fn csv_quotes_per_rfc_4180_and_defuses_formulas() {
        let mut request = request(invited_on("2026-11-27"), "CH", "AL");
        request.attendees = vec![
            Attendee { iso2: "FR".into(), name: "Dupont, \"Jean\"".into(), seat: AttendeeSeat::Main },
            Attendee { iso2: "IT".into(), name: "=HYPERLINK(\"x\")".into(), seat: AttendeeSeat::Main },
        ];
        let csv = to_csv(&plan_seating(&request, &RoomLayout::for_room(&room("Neuer Saal"))).unwrap());
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(lines[0], "seat,place,behind_seat,x,y,angle,kind,delegation,label,occupant");
        assert!(lines[1].starts_with("0,main_table,,0.000,"), "{}", lines[1]);
        assert!(lines[1].ends_with(",chair,CH,Chairperson-in-Office (Switzerland),"), "{}", lines[1]);
        assert!(csv.contains(",FR,France,\"Dupont, \"\"Jean\"\"\"\r\n"), "{csv}");
        assert!(csv.contains(",IT,Italy,\"'=HYPERLINK(\"\"x\"\")\"\r\n"), "{csv}");
        assert_eq!(lines.len(), 84 + 68 * 2 + 2, "header, every seat, and the final CRLF");
    }

    #[test]
    fn rules_from_organisers_are_checked_field_by_field() {
        let names = |list: &[&str]| list.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
        let rules = SeatingRules::checked(false, &names(&["secretary general"]), 3).unwrap();
        assert_eq!(rules.officials, ["Secretary General"]);
        let twice = SeatingRules::checked(true, &names(&["Secretary General", "SECRETARY GENERAL"]), 2).unwrap_err();
        assert_eq!((twice.field(), twice.to_string().as_str()), ("officials", "Secretary General is named twice"));
        let unknown = SeatingRules::checked(true, &names(&["Pope"]), 2).unwrap_err();
        assert!(unknown.to_string().starts_with("unknown official \"Pope\"; known officials are Secretary General"));
        let many = SeatingRules::checked(true, &[], 11).unwrap_err();
        assert_eq!(
            (many.field(), many.to_string().as_str()),
            ("seats_behind", "at most 10 seats behind a delegation, got 11")
        );
    }

    #[test]
    fn a_meeting_seats_every_confirmed_adviser_whatever_the_quota() {
        let adviser = |iso2: &str| Attendee { iso2: iso2.into(), name: "A".into(), seat: AttendeeSeat::Behind };
        let rules = SeatingRules { seats_behind: 2, ..SeatingRules::default() };
        assert_eq!(rules.clone().for_meeting(None, &[]).seats_behind, 2);
        assert_eq!(rules.clone().for_meeting(Some(1), &[]).seats_behind, 1);
        let three_from_austria = [adviser("AT"), adviser("AT"), adviser("AT"), adviser("FR")];
        assert_eq!(rules.for_meeting(Some(1), &three_from_austria).seats_behind, 3);
    }

    #[test]
    fn the_head_of_the_table_follows_the_derived_chair() {
        let single = head_of_table(&crate::chairs::Chair::Single(Some("FI".into())));
        assert_eq!((single[0].role.as_str(), single[0].iso2.as_deref()), ("Chairperson", Some("FI")));
        let co = head_of_table(&crate::chairs::Chair::CoChairs { incoming: None, outgoing: Some("MT".into()) });
        assert_eq!(
            co.iter().map(|chair| chair.role.as_str()).collect::<Vec<_>>(),
            ["Incoming Co-Chair", "Outgoing Co-Chair"]
        );
        assert_eq!((co[0].iso2.as_deref(), co[1].iso2.as_deref()), (None, Some("MT")));
    }
}
