//! Downloads in the formats people open: the attendance list as an Excel workbook ([`xlsx`]),
//! the list of participants and the name badges as PDF ([`pdf`]). What they contain and in
//! which order is [`scheduler::lists`]'s; these only lay it out. The CSV needs no module here:
//! [`scheduler::lists::AttendanceSheet::to_csv`] writes it.

pub mod pdf;
pub mod xlsx;
