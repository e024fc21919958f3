//! PostgreSQL's binary forms of UUIDs, dates, timestamps and numerics, written as the text
//! the server itself would print. Lua has no type for them, and a string keeps every digit
//! (a numeric through a double would not).

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const PG_EPOCH_DAYS: i64 = 10_957;

type DecodeError = Box<dyn std::error::Error + Sync + Send>;

fn array<const N: usize>(raw: &[u8]) -> Result<[u8; N], DecodeError> {
    raw.try_into().map_err(|_| format!("expected {N} bytes, got {}", raw.len()).into())
}

pub fn uuid(raw: &[u8]) -> Result<String, DecodeError> {
    let b: [u8; 16] = array(raw)?;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    Ok(format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..]))
}

/// `date`: "2024-02-29".
pub fn date(raw: &[u8]) -> Result<String, DecodeError> {
    let days = i32::from_be_bytes(array(raw)?);
    Ok(match days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        _ => civil(i64::from(days) + PG_EPOCH_DAYS),
    })
}

/// `timestamptz` as RFC 3339 in UTC ("2024-02-29T12:30:00.25Z"), as Astra gives it;
/// `timestamp` as PostgreSQL prints it ("2024-02-29 12:30:00.25").
pub fn timestamp(raw: &[u8], with_zone: bool) -> Result<String, DecodeError> {
    let micros = i64::from_be_bytes(array(raw)?);
    match micros {
        i64::MAX => return Ok("infinity".into()),
        i64::MIN => return Ok("-infinity".into()),
        _ => {}
    }
    let seconds = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
    let day = seconds.div_euclid(86_400) + PG_EPOCH_DAYS;
    let second_of_day = seconds.rem_euclid(86_400);
    let mut text = format!(
        "{}{}{:02}:{:02}:{:02}",
        civil(day),
        if with_zone { 'T' } else { ' ' },
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    );
    if fraction != 0 {
        let digits = format!("{fraction:06}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    if with_zone {
        text.push('Z');
    }
    Ok(text)
}

/// The civil date of a day count from 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    if year < 1 { format!("{:04}-{month:02}-{day:02} BC", 1 - year) } else { format!("{year:04}-{month:02}-{day:02}") }
}

/// `numeric`: base-10000 digits, a weight and a display scale.
pub fn numeric(raw: &[u8]) -> Result<String, DecodeError> {
    if raw.len() < 8 {
        return Err("a numeric shorter than its header".into());
    }
    let word = |i: usize| u16::from_be_bytes([raw[i], raw[i + 1]]);
    let (count, weight, sign, scale) = (word(0) as usize, word(2) as i16, word(4), word(6) as usize);
    match sign {
        0xC000 => return Ok("NaN".into()),
        0xD000 => return Ok("Infinity".into()),
        0xF000 => return Ok("-Infinity".into()),
        _ => {}
    }
    if raw.len() != 8 + 2 * count {
        return Err("a numeric whose digits do not match its length".into());
    }
    let digit = |i: i32| -> u16 { if i >= 0 && (i as usize) < count { word(8 + 2 * i as usize) } else { 0 } };
    let mut text = String::new();
    if sign == 0x4000 {
        text.push('-');
    }
    if weight < 0 {
        text.push('0');
    } else {
        for i in 0..=i32::from(weight) {
            let group = digit(i);
            if i == 0 { text.push_str(&group.to_string()) } else { text.push_str(&format!("{group:04}")) }
        }
    }
    if scale > 0 {
        text.push('.');
        let mut fraction = String::new();
        let mut i = i32::from(weight) + 1;
        while fraction.len() < scale {
            fraction.push_str(&format!("{:04}", digit(i)));
            i += 1;
        }
        text.push_str(&fraction[..scale]);
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_read_as_postgres_prints_them() {
        assert_eq!(date(&0i32.to_be_bytes()).unwrap(), "2000-01-01");
        assert_eq!(date(&(-10_957i32).to_be_bytes()).unwrap(), "1970-01-01");
        assert_eq!(date(&1520i32.to_be_bytes()).unwrap(), "2004-02-29");
        let noon_and_a_quarter = (86_400i64 * 1520 + 12 * 3600) * 1_000_000 + 250_000;
        assert_eq!(timestamp(&noon_and_a_quarter.to_be_bytes(), true).unwrap(), "2004-02-29T12:00:00.25Z");
        assert_eq!(timestamp(&(-1i64).to_be_bytes(), false).unwrap(), "1999-12-31 23:59:59.999999");
        assert_eq!(timestamp(&i64::MAX.to_be_bytes(), true).unwrap(), "infinity");
    }

    #[test]
    fn numerics_keep_every_digit() {
        // 12345.6789: groups 1, 2345, 6789; weight 1; scale 4.
        let mut raw = vec![0, 3, 0, 1, 0, 0, 0, 4];
        for group in [1u16, 2345, 6789] {
            raw.extend(group.to_be_bytes());
        }
        assert_eq!(numeric(&raw).unwrap(), "12345.6789");
        // -0.05: group 500 at weight -1, scale 2.
        let mut raw = vec![0, 1, 0xff, 0xff, 0x40, 0, 0, 2];
        raw.extend(500u16.to_be_bytes());
        assert_eq!(numeric(&raw).unwrap(), "-0.05");
        // 10000000000 (1e10): group 100 at weight 2, trailing groups omitted.
        let mut raw = vec![0, 1, 0, 2, 0, 0, 0, 0];
        raw.extend(100u16.to_be_bytes());
        assert_eq!(numeric(&raw).unwrap(), "10000000000");
        assert_eq!(numeric(&[0, 0, 0, 0, 0xC0, 0, 0, 0]).unwrap(), "NaN");
        assert!(numeric(&[0, 5, 0, 0]).is_err());
    }

    #[test]
    fn uuids_are_hyphenated() {
        let raw: Vec<u8> = (0u8..16).collect();
        assert_eq!(uuid(&raw).unwrap(), "00010203-0405-0607-0809-0a0b0c0d0e0f");
    }
}
