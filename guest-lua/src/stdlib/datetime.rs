//! `require("datetime")`: dates and times, as Astra's `DateTime`.
//!
//! The sandbox has no time zone database, so every DateTime is in UTC and
//! `get_timezone_offset()` is 0; `to_local()` is the same instant. Months run 1 to 12 and
//! weekdays 0 (Sunday) to 6, as in Astra.

use std::cell::RefCell;

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Timelike, Utc};
use mlua::{Lua, Table, UserData, UserDataMethods, Value};

pub struct LuaDateTime(RefCell<DateTime<Utc>>);

/// `datetime.new(year, month, day, hour, minute, second, millisecond)`, or a string, or
/// nothing for now.
type NewArgs = (Value, Option<u32>, Option<u32>, Option<u32>, Option<u32>, Option<u32>, Option<u32>);

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.set(
        "new",
        lua.create_function(|_, args: NewArgs| {
            let (first, month, day, hour, minute, second, milli) = args;
            let moment = match first {
                Value::Nil => now(),
                Value::String(text) => parse(&text.to_str()?)?,
                Value::Integer(_) | Value::Number(_) => {
                    let year = match first {
                        Value::Integer(n) => i32::try_from(n).ok(),
                        Value::Number(n) if n.fract() == 0.0 => Some(n as i32),
                        _ => None,
                    }
                    .ok_or_else(|| mlua::Error::runtime("the year must be a whole number"))?;
                    build(
                        year,
                        month.unwrap_or(1),
                        day.unwrap_or(1),
                        hour.unwrap_or(0),
                        minute.unwrap_or(0),
                        second.unwrap_or(0),
                        milli.unwrap_or(0),
                    )?
                }
                other => {
                    return Err(mlua::Error::runtime(format!(
                        "datetime.new expects nothing, a year or a date string, got {}",
                        other.type_name()
                    )));
                }
            };
            Ok(LuaDateTime(RefCell::new(moment)))
        })?,
    )?;
    Ok(module)
}

fn now() -> DateTime<Utc> {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    DateTime::from_timestamp(since_epoch.as_secs() as i64, since_epoch.subsec_nanos()).unwrap_or_default()
}

/// RFC 3339 (`2024-05-01T10:00:00Z`), RFC 2822 (`Wed, 01 May 2024 10:00:00 +0000`), or a
/// plain `2024-05-01` / `2024-05-01 10:00:00`.
fn parse(text: &str) -> mlua::Result<DateTime<Utc>> {
    if let Ok(parsed) = DateTime::parse_from_rfc3339(text) {
        return Ok(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = DateTime::parse_from_rfc2822(text) {
        return Ok(parsed.with_timezone(&Utc));
    }
    if let Ok(parsed) = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S") {
        return Ok(parsed.and_utc());
    }
    if let Ok(parsed) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(parsed.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc());
    }
    Err(mlua::Error::runtime(format!("{text:?} is not an RFC 3339 or RFC 2822 date")))
}

fn build(
    year: i32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    milli: u32,
) -> mlua::Result<DateTime<Utc>> {
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|date| date.and_hms_milli_opt(hour, minute, second, milli))
        .map(|naive| Utc.from_utc_datetime(&naive))
        .ok_or_else(|| {
            mlua::Error::runtime(format!(
                "{year}-{month:02}-{day:02} {hour:02}:{minute:02}:{second:02}.{milli:03} is not a valid date and time"
            ))
        })
}

impl LuaDateTime {
    fn get(&self) -> DateTime<Utc> {
        *self.0.borrow()
    }

    /// Rebuilds the moment with one field changed, refusing impossible dates.
    fn change(&self, field: &str, value: u32) -> mlua::Result<()> {
        let m = self.get();
        let (mut y, mut mo, mut d, mut h, mut mi, mut s, mut ms) =
            (m.year(), m.month(), m.day(), m.hour(), m.minute(), m.second(), m.timestamp_subsec_millis());
        match field {
            "year" => y = value as i32,
            "month" => mo = value,
            "day" => d = value,
            "hour" => h = value,
            "minute" => mi = value,
            "second" => s = value,
            _ => ms = value,
        }
        *self.0.borrow_mut() = build(y, mo, d, h, mi, s, ms)?;
        Ok(())
    }
}

impl UserData for LuaDateTime {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_method("get_year", |_, this, ()| Ok(this.get().year()));
        methods.add_method("get_month", |_, this, ()| Ok(this.get().month()));
        methods.add_method("get_day", |_, this, ()| Ok(this.get().day()));
        methods.add_method("get_weekday", |_, this, ()| Ok(this.get().weekday().num_days_from_sunday()));
        methods.add_method("get_hour", |_, this, ()| Ok(this.get().hour()));
        methods.add_method("get_minute", |_, this, ()| Ok(this.get().minute()));
        methods.add_method("get_second", |_, this, ()| Ok(this.get().second()));
        methods.add_method("get_millisecond", |_, this, ()| Ok(this.get().timestamp_subsec_millis()));
        methods.add_method("get_epoch_milliseconds", |_, this, ()| Ok(this.get().timestamp_millis()));
        methods.add_method("get_timezone_offset", |_, _, ()| Ok(0));
        for field in ["year", "month", "day", "hour", "minute", "second", "millisecond"] {
            methods.add_method(format!("set_{field}"), move |_, this, value: u32| this.change(field, value));
        }
        methods.add_method("set_epoch_milliseconds", |_, this, millis: i64| {
            let moment = DateTime::from_timestamp_millis(millis)
                .ok_or_else(|| mlua::Error::runtime(format!("{millis} milliseconds is out of range")))?;
            *this.0.borrow_mut() = moment;
            Ok(())
        });
        methods.add_method("to_utc", |_, this, ()| Ok(LuaDateTime(RefCell::new(this.get()))));
        methods.add_method("to_local", |_, this, ()| Ok(LuaDateTime(RefCell::new(this.get()))));
        methods.add_method("to_rfc2822", |_, this, ()| Ok(this.get().to_rfc2822()));
        methods.add_method("to_rfc3339", |_, this, ()| Ok(this.get().to_rfc3339()));
        methods.add_method("to_iso_string", |_, this, ()| Ok(this.get().to_rfc3339_opts(SecondsFormat::Millis, true)));
        methods.add_method("to_format", |_, this, format: String| {
            use std::fmt::Write as _;
            let mut out = String::new();
            write!(out, "{}", this.get().format(&format))
                .map_err(|_| mlua::Error::runtime(format!("{format:?} is not a valid strftime format")))?;
            Ok(out)
        });
        methods.add_method("to_date_string", |_, this, ()| Ok(this.get().format("%a %b %d %Y").to_string()));
        methods.add_method("to_time_string", |_, this, ()| Ok(this.get().format("%H:%M:%S GMT+0000").to_string()));
        methods.add_method("to_datetime_string", |_, this, ()| {
            Ok(this.get().format("%a %b %d %Y %H:%M:%S GMT+0000").to_string())
        });
        methods.add_method("to_locale_date_string", |_, this, ()| Ok(this.get().format("%-m/%-d/%Y").to_string()));
        methods.add_method("to_locale_time_string", |_, this, ()| Ok(this.get().format("%-I:%M:%S %p").to_string()));
        methods.add_method("to_locale_datetime_string", |_, this, ()| {
            Ok(this.get().format("%-m/%-d/%Y, %-I:%M:%S %p").to_string())
        });
        methods.add_meta_method(mlua::MetaMethod::ToString, |_, this, ()| {
            Ok(this.get().to_rfc3339_opts(SecondsFormat::Millis, true))
        });
    }
}
