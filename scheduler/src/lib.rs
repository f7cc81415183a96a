//! Plenary's domain, pure: no IO, no clock, no database.
//!
//! Everything that decides something (who takes part on a date, who chairs, when bodies meet,
//! who is invited, where everyone sits, what a calendar says) lives here, takes `now` and time
//! zones as arguments, and is tested without a database.

pub mod accounts;
pub mod attendance;
pub mod bodies;
pub mod chairmanship;
pub mod chairs;
pub mod conflicts;
pub mod documents;
pub mod eligibility;
pub mod feed;
pub mod holidays;
pub mod ical;
pub mod lists;
pub mod localtime;
pub mod meeting;
pub mod planning;
pub mod protocol;
pub mod reference;
pub mod reminders;
pub mod seating;
pub mod seating_svg;
pub mod states;
pub mod text;
pub mod vtimezone;
pub mod when_where;
