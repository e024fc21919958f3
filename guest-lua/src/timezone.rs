//! The app's local time (decision 7): the zone the host handed over in the start
//! config, as a TZif file, which jiff reads; UTC when there is none.
//!
//! `datetime` asks it for the offset at an instant and for the instant of a local date
//! and time; `os.date` and `os.time`, which Lua takes from a C library whose local time is
//! UTC in WASI, are rebuilt on the same two questions in `lua/prelude.lua`.

use std::cell::RefCell;

use jiff::tz::{AmbiguousOffset, TimeZone};

thread_local! {
    static LOCAL: RefCell<TimeZone> = const { RefCell::new(TimeZone::UTC) };
}

/// Sets the instance's zone from the start config; an error names the zone.
pub fn install(zone: Option<&crate::exports::astra::host::app::TimeZone>) -> Result<(), String> {
    let Some(zone) = zone else { return Ok(()) };
    let parsed = TimeZone::tzif(&zone.name, &zone.tzif).map_err(|e| format!("time zone {}: {e}", zone.name))?;
    LOCAL.set(parsed);
    Ok(())
}

/// The local offset at an instant.
pub struct Offset {
    /// East of UTC.
    pub seconds: i32,
    /// `CEST`, `+0530`.
    pub abbreviation: String,
    pub daylight_saving: bool,
}

pub fn offset_at(epoch_seconds: i64) -> Offset {
    let instant = jiff::Timestamp::from_second(epoch_seconds).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    LOCAL.with_borrow(|zone| {
        let info = zone.to_offset_info(instant);
        Offset {
            seconds: info.offset().seconds(),
            abbreviation: info.abbreviation().to_string(),
            daylight_saving: info.dst().is_dst(),
        }
    })
}

/// What a local date and time is: one offset, the earlier of two (a fold, when clocks go
/// back), or none (a gap, when they go forward).
pub enum LocalTime {
    Offset(i32),
    Gap,
}

pub fn offset_of_local(year: i32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> LocalTime {
    let civil = (|| {
        jiff::civil::DateTime::new(
            i16::try_from(year).ok()?,
            i8::try_from(month).ok()?,
            i8::try_from(day).ok()?,
            i8::try_from(hour).ok()?,
            i8::try_from(minute).ok()?,
            i8::try_from(second).ok()?,
            0,
        )
        .ok()
    })();
    // Past jiff's years (-9999 to 9999) no zone has rules: its offset is the standard one.
    let Some(civil) = civil else { return LocalTime::Offset(offset_at(0).seconds) };
    LOCAL.with_borrow(|zone| match zone.to_ambiguous_timestamp(civil).offset() {
        AmbiguousOffset::Unambiguous { offset } => LocalTime::Offset(offset.seconds()),
        AmbiguousOffset::Fold { before, .. } => LocalTime::Offset(before.seconds()),
        AmbiguousOffset::Gap { .. } => LocalTime::Gap,
    })
}
