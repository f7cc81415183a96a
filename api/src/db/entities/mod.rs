//! sea-orm entities, one per table, generated in shape and kept free of behaviour; the queries
//! that use them live in `crate::store`.

pub mod api_tokens;
pub mod attendance_settings;
pub mod audit_log;
pub mod bodies;
pub mod chairmanships;
pub mod contacts;
pub mod feeds;
pub mod invitation_settings;
pub mod invitation_texts;
pub mod login_failures;
pub mod meeting_documents;
pub mod meetings;
pub mod memberships;
pub mod outbox;
pub mod password_tokens;
pub mod registration_reminders;
pub mod registrations;
pub mod rooms;
pub mod rsvps;
pub mod seating_lots;
pub mod seating_rules;
pub mod server_secrets;
pub mod sessions;
pub mod states;
pub mod users;
pub mod venues;
