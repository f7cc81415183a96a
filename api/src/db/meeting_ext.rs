//! Behaviour on a stored meeting that the generated entity leaves out.

use chrono_tz::Tz;

use super::entities::meetings;

impl meetings::Model {
    /// The zone of the place the meeting happens in; UTC if the stored name is not one chrono-tz
    /// knows (it is validated on the way in, so only a hand-edited row falls back).
    #[must_use]
    pub fn zone(&self) -> Tz {
        self.time_zone.parse().unwrap_or(Tz::UTC)
    }
}
