//! Attendance: named registrations per meeting, and each meeting's attendance settings, whose
//! row is also the lock every change of the meeting's registrations takes first.
//!
//! Partial unique indexes (the same SQL on SQLite and PostgreSQL) keep one main seat per
//! delegation and one active registration per e-mail address per meeting, whatever the code
//! above them does; capacity and quotas are kept by deciding under the meeting's lock.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(AttendanceSettings::Table)
                    .col(integer(AttendanceSettings::MeetingId).primary_key())
                    .col(integer_null(AttendanceSettings::SeatsBehindQuota))
                    .col(big_integer_null(AttendanceSettings::Deadline))
                    .col(integer_null(AttendanceSettings::Capacity))
                    .col(big_integer(AttendanceSettings::LastArrival).default(0))
                    .col(timestamp_with_time_zone_null(AttendanceSettings::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AttendanceSettings::Table, AttendanceSettings::MeetingId)
                            .to(Meetings::Table, Meetings::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Registrations::Table)
                    .col(big_pk_auto(Registrations::Id))
                    .col(integer(Registrations::MeetingId))
                    .col(string_len(Registrations::Iso2, 2))
                    .col(string(Registrations::Name))
                    .col(string(Registrations::Function))
                    .col(string(Registrations::Email))
                    .col(string(Registrations::Seat))
                    .col(string_len(Registrations::Language, 2))
                    .col(string(Registrations::Status))
                    .col(big_integer(Registrations::Arrival))
                    .col(boolean(Registrations::Overridden).default(false))
                    .col(string(Registrations::CreatedBy))
                    .col(timestamp_with_time_zone(Registrations::CreatedAt))
                    .col(timestamp_with_time_zone(Registrations::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Registrations::Table, Registrations::MeetingId)
                            .to(Meetings::Table, Meetings::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Registrations::Table, Registrations::Iso2)
                            .to(States::Table, States::Iso2),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("registrations_arrival")
                    .table(Registrations::Table)
                    .col(Registrations::MeetingId)
                    .col(Registrations::Arrival)
                    .unique()
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        db.execute_unprepared(
            "CREATE UNIQUE INDEX registrations_one_main_seat ON registrations (meeting_id, iso2) \
             WHERE seat = 'main' AND status <> 'withdrawn'",
        )
        .await?;
        db.execute_unprepared(
            "CREATE UNIQUE INDEX registrations_one_per_email ON registrations (meeting_id, email) \
             WHERE status <> 'withdrawn'",
        )
        .await?;
        Ok(())
    }
}

#[derive(DeriveIden)]
enum AttendanceSettings {
    Table,
    MeetingId,
    SeatsBehindQuota,
    Deadline,
    Capacity,
    LastArrival,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Registrations {
    Table,
    Id,
    MeetingId,
    Iso2,
    Name,
    Function,
    Email,
    Seat,
    Language,
    Status,
    Arrival,
    Overridden,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Meetings {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum States {
    Table,
    Iso2,
}
