//! The reference data Plenary ships with: States and memberships, Chairmanships and rooms.
//!
//! The CSV files in `scheduler/data/` are compiled into the binary, so a deployment never reads
//! them from disk; the service loads them into its database at start, where organisers can
//! extend them (a new Chairmanship, a new Partner).

use chrono::NaiveDate;
use serde::Deserialize;

use crate::states::{Membership, PartnerGroup, State, StateKind};

const STATES_CSV: &str = include_str!("../data/states.csv");
const CHAIRMANSHIPS_CSV: &str = include_str!("../data/chairmanships.csv");
const ROOMS_CSV: &str = include_str!("../data/rooms.csv");

/// A room meetings can be held in, with the seats that matter for planning and seating.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Room {
    pub code: String,
    pub name: String,
    pub venue: String,
    pub city: String,
    pub country: String,
    pub time_zone: String,
    /// Everyone in the room: the main table plus the seats behind it.
    pub capacity: u32,
    /// Seats at the main table: the chair, the officials and one per delegation.
    pub main_table_seats: u32,
}

/// A Chairmanship: the participating State that chairs the OSCE for one calendar year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chairmanship {
    pub year: i32,
    pub iso2: String,
}

/// Everything bundled with Plenary, parsed.
#[derive(Debug, Clone)]
pub struct ReferenceData {
    pub states: Vec<State>,
    pub memberships: Vec<Membership>,
    pub chairmanships: Vec<Chairmanship>,
    pub rooms: Vec<Room>,
}

#[derive(Deserialize)]
struct StateRow {
    iso2: String,
    name_en: String,
    name_fr: String,
    protocol_sort_key: String,
    kind: String,
    partner_group: String,
    from: String,
    until: String,
}

#[derive(Deserialize)]
struct ChairmanshipRow {
    year: i32,
    country_iso2: String,
}

impl ReferenceData {
    /// The data compiled into this build.
    ///
    /// # Panics
    /// Never at run time: the bundled files are checked by this crate's tests.
    #[must_use]
    pub fn bundled() -> Self {
        Self::parse(STATES_CSV, CHAIRMANSHIPS_CSV, ROOMS_CSV).expect("bundled reference data is valid")
    }

    /// Parses the three CSV files.
    ///
    /// # Errors
    /// A message naming the file, row and field at fault.
    pub fn parse(states_csv: &str, chairmanships_csv: &str, rooms_csv: &str) -> Result<Self, String> {
        let mut states: Vec<State> = Vec::new();
        let mut memberships = Vec::new();
        for (index, row) in csv::Reader::from_reader(states_csv.as_bytes()).deserialize::<StateRow>().enumerate() {
            let row = row.map_err(|e| format!("states.csv row {}: {e}", index + 2))?;
            let at = |what: &str| format!("states.csv row {} ({}): {what}", index + 2, row.iso2);
            let kind = StateKind::parse(&row.kind).map_err(|e| at(&e))?;
            let partner_group = match row.partner_group.as_str() {
                "" => None,
                group => Some(PartnerGroup::parse(group).map_err(|e| at(&e))?),
            };
            let from = parse_year_or_date(&row.from).map_err(|e| at(&e))?;
            let until = match row.until.as_str() {
                "" => None,
                text => Some(parse_year_or_date(text).map_err(|e| at(&e))?),
            };
            if !states.iter().any(|state| state.iso2 == row.iso2) {
                states.push(State {
                    iso2: row.iso2.clone(),
                    name_en: row.name_en,
                    name_fr: row.name_fr,
                    protocol_sort_key: row.protocol_sort_key,
                });
            }
            memberships.push(Membership { iso2: row.iso2, kind, partner_group, from, until });
        }
        let chairmanships = csv::Reader::from_reader(chairmanships_csv.as_bytes())
            .deserialize::<ChairmanshipRow>()
            .enumerate()
            .map(|(index, row)| {
                row.map(|row| Chairmanship { year: row.year, iso2: row.country_iso2 })
                    .map_err(|e| format!("chairmanships.csv row {}: {e}", index + 2))
            })
            .collect::<Result<_, _>>()?;
        let rooms = csv::Reader::from_reader(rooms_csv.as_bytes())
            .deserialize::<Room>()
            .enumerate()
            .map(|(index, row)| row.map_err(|e| format!("rooms.csv row {}: {e}", index + 2)))
            .collect::<Result<_, _>>()?;
        Ok(Self { states, memberships, chairmanships, rooms })
    }
}

/// The public record often gives only the year someone joined; that counts from 1 January.
fn parse_year_or_date(text: &str) -> Result<NaiveDate, String> {
    if let Ok(year) = text.parse::<i32>() {
        return NaiveDate::from_ymd_opt(year, 1, 1).ok_or_else(|| format!("year {year} is out of range"));
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| format!("{text:?} is neither a year nor a YYYY-MM-DD date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_data_parses_with_the_expected_counts() {
        let data = ReferenceData::bundled();
        assert_eq!(data.states.len(), 68);
        assert_eq!(data.memberships.len(), 69);
        assert_eq!(data.chairmanships.first(), Some(&Chairmanship { year: 1999, iso2: "NO".into() }));
        assert!(data.rooms.iter().any(|room| room.name == "Neuer Saal"));
        for chairmanship in &data.chairmanships {
            assert!(data.states.iter().any(|s| s.iso2 == chairmanship.iso2), "{chairmanship:?}");
        }
    }

    #[test]
    fn a_bad_row_is_reported_with_its_place() {
        let error = ReferenceData::parse(
            "iso2,name_en,name_fr,protocol_sort_key,kind,partner_group,from,until,confidence\nXX,X,X,X,member,,1990,,high\n",
            "year,country_iso2,country_en\n",
            "code,name,venue,city,country,time_zone,capacity,main_table_seats\n",
        )
        .unwrap_err();
        assert!(error.contains("row 2 (XX)") && error.contains("member"), "{error}");
    }
}
