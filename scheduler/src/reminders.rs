//! Reminders to register: whether a meeting's reminders are due now, and which invited
//! delegations get one.
//!
//! The rules, in the order they are checked:
//! 1. Reminders are off when they are set to 0 days before the deadline (the window of
//!    rule 3 is then empty).
//! 2. Only a meeting whose invitations were sent (a delegation is not reminded of a meeting it
//!    was never told about) and that is not cancelled.
//! 3. Only from `days` before the registration deadline until the deadline: a reminder after
//!    it is of no use, and one the service missed at the exact moment (it was down, or the
//!    deadline was moved) still goes out while registering is possible.
//! 4. Only to an invited delegation that has nobody registered (confirmed or waiting), has
//!    not declined the invitation (through its reply links), and has not been reminded of this
//!    meeting before.

use chrono::{DateTime, Duration, Utc};

/// What decides whether a meeting's reminders are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// When registration closes.
    pub deadline: DateTime<Utc>,
    pub invitations_sent: bool,
    pub cancelled: bool,
}

/// Whether reminders for the meeting of `window` go out at `now`, `days` before its deadline
/// (rules 1 to 3).
#[must_use]
pub fn is_open(window: &Window, now: DateTime<Utc>, days: u32) -> bool {
    if !window.invitations_sent || window.cancelled {
        return false;
    }
    let opens = window.deadline - Duration::days(i64::from(days));
    opens <= now && now < window.deadline
}

/// The delegations among `invited` to remind (rule 4): nobody of theirs is in `registered`
/// (the delegations with a confirmed or waiting registration), and they are in neither
/// `declined` nor `reminded`. Each once, in the order of `invited`.
#[must_use]
pub fn due<'a>(invited: &'a [String], registered: &[String], declined: &[String], reminded: &[String]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for iso2 in invited {
        let left_out = registered.contains(iso2) || declined.contains(iso2) || reminded.contains(iso2);
        if !left_out && !out.contains(&iso2.as_str()) {
            out.push(iso2);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use proptest::prelude::*;

    use super::*;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2027, 9, day, hour, 0, 0).unwrap()
    }

    fn window(deadline: DateTime<Utc>) -> Window {
        Window { deadline, invitations_sent: true, cancelled: false }
    }

    fn codes(list: &[&str]) -> Vec<String> {
        list.iter().map(|code| (*code).to_owned()).collect()
    }

    #[test]
    fn reminders_open_the_given_days_before_the_deadline_and_close_at_it() {
        let deadline = window(at(20, 12));
        assert!(!is_open(&deadline, at(13, 11), 7), "an hour before the window opens");
        assert!(is_open(&deadline, at(13, 12), 7), "exactly seven days before");
        assert!(is_open(&deadline, at(20, 11), 7), "an hour before the deadline");
        assert!(!is_open(&deadline, at(20, 12), 7), "at the deadline registration is closed");
        assert!(!is_open(&deadline, at(25, 12), 7), "after the deadline");
    }

    #[test]
    fn no_reminder_when_off_cancelled_or_never_invited() {
        let now = at(18, 9);
        assert!(!is_open(&window(at(20, 12)), now, 0), "0 days turns reminders off");
        assert!(!is_open(&Window { cancelled: true, ..window(at(20, 12)) }, now, 7));
        assert!(!is_open(&Window { invitations_sent: false, ..window(at(20, 12)) }, now, 7));
    }

    #[test]
    fn only_delegations_without_registrations_and_not_yet_reminded() {
        let invited = codes(&["AT", "DE", "FR", "JP"]);
        assert_eq!(due(&invited, &codes(&["DE"]), &[], &codes(&["FR"])), ["AT", "JP"]);
        assert_eq!(due(&invited, &[], &[], &[]), ["AT", "DE", "FR", "JP"]);
        assert_eq!(due(&invited, &[], &codes(&["JP"]), &[]), ["AT", "DE", "FR"], "Japan declined");
        assert!(due(&invited, &invited, &[], &[]).is_empty());
        assert_eq!(due(&codes(&["AT", "AT"]), &[], &[], &[]), ["AT"], "each delegation once");
    }

    fn code() -> impl Strategy<Value = String> {
        prop::sample::select(vec!["AT", "DE", "FR", "IT", "JP", "DZ", "US"]).prop_map(str::to_owned)
    }

    proptest! {
        /// Whatever the deadline, the time and the days: a reminder is never due after the
        /// deadline, nor more than `days` before it, and always within that window.
        #[test]
        fn open_exactly_within_the_window(
            deadline_hours in 0i64..2_000,
            now_hours in 0i64..2_000,
            days in 0u32..60,
            cancelled: bool,
            invitations_sent: bool,
        ) {
            let start = at(1, 0);
            let deadline = start + Duration::hours(deadline_hours);
            let now = start + Duration::hours(now_hours);
            let open = is_open(&Window { deadline, invitations_sent, cancelled }, now, days);
            let within = now < deadline && deadline - now <= Duration::days(i64::from(days));
            prop_assert_eq!(open, within && days > 0 && invitations_sent && !cancelled);
            prop_assert!(days > 0 || !open, "0 days: never");
        }

        /// The delegations due are invited, have nobody registered, did not decline, were not
        /// reminded, and appear once; every other invited delegation is left out for one of
        /// these reasons.
        #[test]
        fn due_is_the_invited_minus_the_registered_and_reminded(
            invited in prop::collection::vec(code(), 0..10),
            registered in prop::collection::vec(code(), 0..5),
            declined in prop::collection::vec(code(), 0..3),
            reminded in prop::collection::vec(code(), 0..5),
        ) {
            let chosen = due(&invited, &registered, &declined, &reminded);
            for (index, iso2) in chosen.iter().enumerate() {
                prop_assert!(invited.iter().any(|code| code == iso2));
                prop_assert!(!registered.iter().any(|code| code == iso2));
                prop_assert!(!reminded.iter().any(|code| code == iso2));
                prop_assert!(!declined.iter().any(|code| code == iso2));
                prop_assert!(!chosen[..index].contains(iso2));
            }
            for iso2 in &invited {
                prop_assert!(
                    chosen.contains(&iso2.as_str())
                        || registered.contains(iso2)
                        || declined.contains(iso2)
                        || reminded.contains(iso2)
                );
            }
        }
    }
}
