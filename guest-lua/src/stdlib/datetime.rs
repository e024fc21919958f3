//! `require("datetime")`: Astra 0.52's `DateTime`, a moment with a fixed UTC offset (a
//! chrono `DateTime<FixedOffset>`), with its messages.
//!
//! "Local" is the app's zone (`timezone.rs`, decision 7), where Astra has the host's and
//! chrono in WASI would have UTC. A DateTime keeps the offset it was made with: arithmetic
//! in days and months is calendar arithmetic at that offset, as in Astra. Anything chrono
//! would panic on (an unknown `strftime` specifier) is a Lua error.

use std::cell::RefCell;
use std::fmt::Write as _;

use chrono::format::StrftimeItems;
use chrono::{
    DateTime, Datelike, FixedOffset, Months, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone, Timelike,
};
use mlua::{Lua, MetaMethod, Table, UserData, UserDataMethods, UserDataRef, Value};

use crate::timezone::{self, LocalTime};

pub struct LuaDateTime(RefCell<DateTime<FixedOffset>>);

/// `datetime.new(year, month, day, hour, minute, second, millisecond)`, or a string, or
/// nothing for now.
type NewArgs = (Value, Option<u32>, Option<u32>, Option<u32>, Option<u32>, Option<u32>, Option<u32>);

pub fn module(lua: &Lua) -> mlua::Result<Table> {
    let module = lua.create_table()?;
    module.set("new", lua.create_function(|_, args: NewArgs| new(args).map(LuaDateTime::of))?)?;
    module.set(
        "from_epoch_millis",
        lua.create_function(|_, millis: i64| {
            let moment = DateTime::from_timestamp_millis(millis).ok_or_else(|| error("Invalid millisecond value!"))?;
            Ok(LuaDateTime::of(moment.fixed_offset()))
        })?,
    )?;
    module.set(
        "sleep",
        lua.create_function(|_, ms: f64| {
            if !(ms.is_finite() && ms >= 0.0) {
                return Err(error(format!("datetime.sleep: {ms} is not a number of milliseconds")));
            }
            crate::stdlib::tasks::sleep(ms as u64);
            Ok(())
        })?,
    )?;
    Ok(module)
}

fn error(message: impl Into<String>) -> mlua::Error {
    mlua::Error::runtime(message.into())
}

fn new((first, month, day, hour, minute, second, milli): NewArgs) -> mlua::Result<DateTime<FixedOffset>> {
    let year = match first {
        Value::Nil => return Ok(local(now())),
        Value::String(text) => return parse(&text.to_str()?),
        Value::Integer(n) => i32::try_from(n).ok(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < f64::from(i32::MAX) => Some(n as i32),
        Value::Number(_) => None,
        other => {
            return Err(error(format!(
                "datetime.new expects nothing, a year or a date string, got {}",
                other.type_name()
            )));
        }
    };
    let year = year.ok_or_else(|| error("Invalid date or time!"))?;
    let date = NaiveDate::from_ymd_opt(year, month.unwrap_or(1), day.unwrap_or(1));
    let time =
        NaiveTime::from_hms_milli_opt(hour.unwrap_or(0), minute.unwrap_or(0), second.unwrap_or(0), milli.unwrap_or(0));
    let (Some(date), Some(time)) = (date, time) else { return Err(error("Invalid date or time!")) };
    resolve_local(date.and_time(time))
}

/// Astra's three forms, told apart as it tells them: `YYYY-MM-DD` (local midnight), RFC
/// 3339 when the fifth character is `-`, else RFC 2822; the last two keep their offset.
fn parse(text: &str) -> mlua::Result<DateTime<FixedOffset>> {
    let invalid = |reason: &dyn std::fmt::Display| {
        error(format!("Invalid date string (date-only | RFC 3339 | RFC 2822): {text}\nERR: {reason}"))
    };
    if text.as_bytes().get(4) == Some(&b'-') {
        if text.len() == 10 {
            let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|e| invalid(&e))?;
            return resolve_local(date.and_time(NaiveTime::MIN));
        }
        return DateTime::parse_from_rfc3339(text).map_err(|e| invalid(&e));
    }
    DateTime::parse_from_rfc2822(text).map_err(|e| invalid(&e))
}

fn now() -> DateTime<chrono::Utc> {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    DateTime::from_timestamp(since_epoch.as_secs() as i64, since_epoch.subsec_nanos()).unwrap_or_default()
}

/// The moment at the app's local offset then.
fn local<Tz: TimeZone>(moment: DateTime<Tz>) -> DateTime<FixedOffset> {
    let offset = timezone::offset_at(moment.timestamp()).seconds;
    moment.with_timezone(&FixedOffset::east_opt(offset).unwrap_or(chrono::Utc.fix()))
}

/// A local date and time as a moment: the earlier one when the clocks went back, none
/// when they skipped it.
fn resolve_local(naive: NaiveDateTime) -> mlua::Result<DateTime<FixedOffset>> {
    let offset = match timezone::offset_of_local(
        naive.year(),
        naive.month(),
        naive.day(),
        naive.hour(),
        naive.minute(),
        naive.second(),
    ) {
        LocalTime::Offset(seconds) => FixedOffset::east_opt(seconds),
        LocalTime::Gap => None,
    };
    offset
        .and_then(|offset| offset.from_local_datetime(&naive).single())
        .ok_or_else(|| error("Error while resolving local time!"))
}

impl LuaDateTime {
    fn of(moment: DateTime<FixedOffset>) -> LuaDateTime {
        LuaDateTime(RefCell::new(moment))
    }

    fn get(&self) -> DateTime<FixedOffset> {
        *self.0.borrow()
    }

    /// Astra 0.52's setters change the DateTime and return a copy of it.
    fn set(&self, changed: Option<DateTime<FixedOffset>>, message: &str) -> mlua::Result<LuaDateTime> {
        let changed = changed.ok_or_else(|| error(message))?;
        *self.0.borrow_mut() = changed;
        Ok(LuaDateTime::of(changed))
    }

    fn shifted(
        &self,
        shift: impl FnOnce(DateTime<FixedOffset>) -> Option<DateTime<FixedOffset>>,
    ) -> mlua::Result<LuaDateTime> {
        shift(self.get()).map(LuaDateTime::of).ok_or_else(|| error("Invalid value"))
    }
}

/// `n` units of `unit` as a duration, if it fits.
fn duration(n: i64, unit: &str) -> Option<TimeDelta> {
    match unit {
        "milliseconds" => TimeDelta::try_milliseconds(n),
        "seconds" => TimeDelta::try_seconds(n),
        "minutes" => TimeDelta::try_minutes(n),
        "hours" => TimeDelta::try_hours(n),
        "days" => TimeDelta::try_days(n),
        _ => TimeDelta::try_weeks(n),
    }
}

fn add_months(moment: DateTime<FixedOffset>, months: i64) -> Option<DateTime<FixedOffset>> {
    let count = Months::new(u32::try_from(months.unsigned_abs()).ok()?);
    if months >= 0 { moment.checked_add_months(count) } else { moment.checked_sub_months(count) }
}

fn strftime(moment: &DateTime<FixedOffset>, format: &str) -> mlua::Result<String> {
    let items = StrftimeItems::new(format)
        .parse()
        .map_err(|_| error(format!("datetime:to_format: {format:?} is not a valid strftime format")))?;
    let mut out = String::new();
    write!(out, "{}", moment.format_with_items(items.iter()))
        .map_err(|_| error(format!("datetime:to_format: {format:?} cannot format this date")))?;
    Ok(out)
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
        methods.add_method("get_timezone_offset", |_, this, ()| Ok(this.get().offset().local_minus_utc() / 60));

        methods.add_method("set_year", |_, this, year: i32| this.set(this.get().with_year(year), "Invalid year!"));
        methods.add_method("set_month", |_, this, month: u32| this.set(this.get().with_month(month), "Invalid month!"));
        methods.add_method("set_day", |_, this, day: u32| this.set(this.get().with_day(day), "Invalid day!"));
        methods.add_method("set_hour", |_, this, hour: u32| this.set(this.get().with_hour(hour), "Invalid hour!"));
        methods.add_method("set_minute", |_, this, minute: u32| {
            this.set(this.get().with_minute(minute), "Invalid minute!")
        });
        methods.add_method("set_second", |_, this, second: u32| {
            this.set(this.get().with_second(second), "Invalid second!")
        });
        methods.add_method("set_millisecond", |_, this, milli: u32| {
            let changed = (milli < 1000).then(|| this.get().with_nanosecond(milli * 1_000_000)).flatten();
            this.set(changed, "Invalid millisecond!")
        });
        methods.add_method("set_epoch_milliseconds", |_, this, millis: i64| {
            let offset = *this.get().offset();
            let changed = DateTime::from_timestamp_millis(millis).map(|moment| moment.with_timezone(&offset));
            this.set(changed, "Invalid millisecond value!")
        });
        methods.add_method(
            "set_time",
            |_, this, (hour, minute, second, milli): (u32, u32, Option<u32>, Option<u32>)| {
                let moment = this.get();
                let time = NaiveTime::from_hms_milli_opt(hour, minute, second.unwrap_or(0), milli.unwrap_or(0));
                let changed = time
                    .and_then(|time| moment.offset().from_local_datetime(&moment.date_naive().and_time(time)).single());
                this.set(changed, "Invalid time values")
            },
        );
        methods.add_method("set_date", |_, this, (year, month, day): (i32, u32, u32)| {
            let moment = this.get();
            let date = NaiveDate::from_ymd_opt(year, month, day);
            let changed =
                date.and_then(|date| moment.offset().from_local_datetime(&date.and_time(moment.time())).single());
            this.set(changed, "Invalid date values")
        });

        for unit in ["milliseconds", "seconds", "minutes", "hours", "days", "weeks"] {
            methods.add_method(format!("add_{unit}"), move |_, this, n: i64| {
                this.shifted(|moment| moment.checked_add_signed(duration(n, unit)?))
            });
            methods.add_method(format!("sub_{unit}"), move |_, this, n: i64| {
                this.shifted(|moment| moment.checked_sub_signed(duration(n, unit)?))
            });
        }
        methods.add_method("add_months", |_, this, n: i64| this.shifted(|moment| add_months(moment, n)));
        methods.add_method("sub_months", |_, this, n: i64| this.shifted(|moment| add_months(moment, n.checked_neg()?)));
        methods
            .add_method("add_years", |_, this, n: i64| this.shifted(|moment| add_months(moment, n.checked_mul(12)?)));
        methods
            .add_method("sub_years", |_, this, n: i64| this.shifted(|moment| add_months(moment, n.checked_mul(-12)?)));
        methods.add_method("diff_milliseconds", |_, this, other: UserDataRef<LuaDateTime>| {
            Ok(this.get().timestamp_millis() - other.get().timestamp_millis())
        });

        methods.add_method("to_utc", |_, this, ()| {
            Ok(LuaDateTime::of(this.get().with_timezone(&chrono::Utc).fixed_offset()))
        });
        methods.add_method("to_local", |_, this, ()| Ok(LuaDateTime::of(local(this.get()))));
        methods.add_method("to_rfc2822", |_, this, ()| Ok(this.get().to_rfc2822()));
        methods.add_method("to_rfc3339", |_, this, ()| Ok(this.get().to_rfc3339()));
        methods.add_method("to_datetime_string", |_, this, ()| Ok(this.get().to_rfc3339()));
        methods.add_method("to_iso_string", |_, this, ()| {
            Ok(this.get().to_rfc3339_opts(chrono::SecondsFormat::Millis, false))
        });
        methods.add_method("to_date_string", |_, this, ()| strftime(&this.get(), "%Y-%m-%d"));
        methods.add_method("to_time_string", |_, this, ()| strftime(&this.get(), "%H:%M:%S%.3f%:z"));
        methods.add_method("to_locale_date_string", |_, this, ()| strftime(&this.get(), "%x"));
        methods.add_method("to_locale_time_string", |_, this, ()| strftime(&this.get(), "%X"));
        methods.add_method("to_locale_datetime_string", |_, this, ()| strftime(&this.get(), "%c"));
        methods.add_method("to_format", |_, this, format: String| strftime(&this.get(), &format));

        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.get().to_rfc3339()));
        methods.add_meta_function(MetaMethod::Concat, |lua, (left, right): (Value, Value)| {
            let text = |value: &Value| -> mlua::Result<String> {
                match value {
                    Value::UserData(data) if data.is::<LuaDateTime>() => {
                        Ok(data.borrow::<LuaDateTime>()?.get().to_rfc3339())
                    }
                    other => lua.globals().get::<mlua::Function>("tostring")?.call(other.clone()),
                }
            };
            Ok(text(&left)? + &text(&right)?)
        });
        methods
            .add_meta_method(MetaMethod::Eq, |_, this, other: UserDataRef<LuaDateTime>| Ok(this.get() == other.get()));
        methods
            .add_meta_method(MetaMethod::Lt, |_, this, other: UserDataRef<LuaDateTime>| Ok(this.get() < other.get()));
        methods
            .add_meta_method(MetaMethod::Le, |_, this, other: UserDataRef<LuaDateTime>| Ok(this.get() <= other.get()));
        methods.add_meta_method(MetaMethod::Sub, |_, this, other: UserDataRef<LuaDateTime>| {
            Ok(this.get().timestamp_millis() - other.get().timestamp_millis())
        });
    }
}
