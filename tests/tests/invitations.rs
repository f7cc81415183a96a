//! Invitations by e-mail (issue 5): the outbox, who is invited, contacts, sending through a
//! real SMTP server, updates and cancellations.

use plenary::store::outbox::{self, CalendarPart, NewMessage};
use tests::TestApp;

fn message(dedupe_key: &str) -> NewMessage {
    NewMessage {
        kind: "waitlist_promotion".into(),
        meeting_id: None,
        recipient_email: "someone@example.org".into(),
        recipient_name: "Someone".into(),
        language: "en".into(),
        subject: "A seat is yours".into(),
        text_body: "Hello".into(),
        html_body: None,
        calendar: Some(CalendarPart { method: "REQUEST".into(), ics: "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n".into() }),
        message_id: format!("<{dedupe_key}@plenary>"),
        dedupe_key: dedupe_key.into(),
    }
}

#[tokio::test]
async fn enqueueing_the_same_key_twice_queues_one_message() {
    let app = TestApp::spawn().await;
    assert!(outbox::enqueue(&app.state.db, message("k1")).await.unwrap());
    assert!(!outbox::enqueue(&app.state.db, message("k1")).await.unwrap());
    assert!(outbox::enqueue(&app.state.db, message("k2")).await.unwrap());
    let rows =
        <plenary::db::entities::outbox::Entity as sea_orm::EntityTrait>::find().all(&app.state.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|row| row.status == outbox::QUEUED && row.attempts == 0));
    assert_eq!(rows[0].message_id, "k1@plenary");
    assert_eq!(rows[0].calendar_method.as_deref(), Some("REQUEST"));
    app.stop().await;
}
