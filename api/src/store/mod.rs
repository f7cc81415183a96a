//! Queries and changes, as functions taking `&impl ConnectionTrait` so they work on the pool or
//! inside a transaction, and can be tested directly.

pub mod audit;
pub mod bodies;
pub mod contacts;
pub mod invitations;
pub mod meetings;
pub mod outbox;
pub mod reference;
pub mod tokens;
pub mod users;
