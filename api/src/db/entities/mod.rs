//! sea-orm entities, one per table, generated in shape and kept free of behaviour; the queries
//! that use them live in `crate::store`.

pub mod api_tokens;
pub mod audit_log;
pub mod bodies;
pub mod chairmanships;
pub mod contacts;
pub mod invitation_settings;
pub mod meetings;
pub mod memberships;
pub mod outbox;
pub mod rooms;
pub mod rsvps;
pub mod server_secrets;
pub mod states;
pub mod users;
pub mod venues;
