//! Plenary's schema, one sea-orm migration per change.
//!
//! Schema changes only ever happen here, in a new file named `mYYYYMMDD_HHMMSS_verb_object.rs`;
//! a migration that has been released is never edited.
//!
//! Instants that queries compare (a meeting's start and end) are stored as Unix seconds in
//! `BIGINT` columns: SQLite keeps timestamps as text and PostgreSQL as numbers, and the two
//! order text timestamps differently. Instants only shown or audited use the timestamp type.

#![expect(
    elided_lifetimes_in_paths,
    reason = "`MigrationTrait::up` is declared through async_trait with `&SchemaManager`; naming its lifetime breaks the impl"
)]

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_reference_tables;
mod m20261127_000002_create_meetings;
mod m20261127_000003_create_people_and_tokens;
mod m20261127_000004_create_audit_log;
mod m20261127_000005_create_feeds;
mod m20261127_000006_create_registrations;
mod m20261127_000007_create_outbox;
mod m20261127_000008_create_seating;
mod m20261127_000009_create_sessions;
mod m20261127_190000_create_invitations;
mod m20261128_000002_create_login_failures;
mod m20261128_000003_add_outbox_retention;
mod m20261128_000004_repair_text_fields;
mod m20261128_150000_add_cancellation_reason;
mod m20261128_160000_create_meeting_documents;
mod m20261128_190000_create_registration_reminders;

/// Applies every migration in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_reference_tables::Migration),
            Box::new(m20261127_000002_create_meetings::Migration),
            Box::new(m20261127_000003_create_people_and_tokens::Migration),
            Box::new(m20261127_000004_create_audit_log::Migration),
            Box::new(m20261127_000005_create_feeds::Migration),
            Box::new(m20261127_000006_create_registrations::Migration),
            Box::new(m20261127_000007_create_outbox::Migration),
            Box::new(m20261127_000008_create_seating::Migration),
            Box::new(m20261127_000009_create_sessions::Migration),
            Box::new(m20261127_190000_create_invitations::Migration),
            Box::new(m20261128_000002_create_login_failures::Migration),
            Box::new(m20261128_000003_add_outbox_retention::Migration),
            Box::new(m20261128_000004_repair_text_fields::Migration),
            Box::new(m20261128_150000_add_cancellation_reason::Migration),
            Box::new(m20261128_160000_create_meeting_documents::Migration),
            Box::new(m20261128_190000_create_registration_reminders::Migration),
        ]
    }
}
