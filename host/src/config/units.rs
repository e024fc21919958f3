//! Sizes and durations as operators write them: `"64MiB"`, `"512KB"`, `"250ms"`, `"30s"`.
//!
//! Parsed by hand rather than with a crate so that every error can say exactly which
//! units are accepted.

use std::fmt;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    pub const fn mib(n: u64) -> Self {
        ByteSize(n * 1024 * 1024)
    }

    pub const fn kib(n: u64) -> Self {
        ByteSize(n * 1024)
    }

    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
        for (unit, size) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{}{unit}", self.0 / size);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        const HINT: &str = "write a number with a unit, e.g. \"64MiB\" (B, KB, KiB, MB, MiB, GB, GiB)";
        let (number, unit) = split_number(text).map_err(|e| format!("{e}: {HINT}"))?;
        let multiplier: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "k" | "kb" => 1000,
            "kib" => 1 << 10,
            "m" | "mb" => 1000 * 1000,
            "mib" => 1 << 20,
            "g" | "gb" => 1000 * 1000 * 1000,
            "gib" => 1 << 30,
            _ => return Err(format!("{text:?} is not a size: use a number with B, KB, KiB, MB, MiB, GB or GiB")),
        };
        let bytes = number * multiplier as f64;
        if bytes > u64::MAX as f64 {
            return Err(format!("{text:?} is too large"));
        }
        Ok(ByteSize(bytes as u64))
    }
}

/// A duration that prints and parses as `"250ms"`, `"30s"`, `"5m"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Span(pub Duration);

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.as_millis();
        for (unit, size) in [("h", 3_600_000), ("m", 60_000), ("s", 1000)] {
            if ms >= size && ms.is_multiple_of(size) {
                return write!(f, "{}{unit}", ms / size);
            }
        }
        write!(f, "{ms}ms")
    }
}

impl std::str::FromStr for Span {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        const HINT: &str = "write a number with a unit, e.g. \"250ms\" (ms, s, m, h)";
        let (number, unit) = split_number(text).map_err(|e| format!("{e}: {HINT}"))?;
        let seconds = match unit.to_ascii_lowercase().as_str() {
            "ms" => number / 1000.0,
            "s" => number,
            "m" | "min" => number * 60.0,
            "h" => number * 3600.0,
            "" => return Err(format!("{text:?} has no unit: write for example \"250ms\", \"30s\" or \"5m\"")),
            _ => return Err(format!("{text:?} is not a duration: use a number with ms, s, m or h")),
        };
        Duration::try_from_secs_f64(seconds).map(Span).map_err(|_| format!("{text:?} is out of range"))
    }
}

fn split_number(text: &str) -> Result<(f64, &str), String> {
    let text = text.trim();
    let end = text.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(text.len());
    let (number, unit) = text.split_at(end);
    let number: f64 = number.replace('_', "").parse().map_err(|_| format!("{text:?} does not start with a number"))?;
    if !number.is_finite() || number < 0.0 {
        return Err(format!("{text:?} must be a positive number"));
    }
    Ok((number, unit.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!("64MiB".parse::<ByteSize>(), Ok(ByteSize::mib(64)));
        assert_eq!("1kb".parse::<ByteSize>(), Ok(ByteSize(1000)));
        assert_eq!("1_024".parse::<ByteSize>(), Ok(ByteSize(1024)));
        assert_eq!("1.5 KiB".parse::<ByteSize>(), Ok(ByteSize(1536)));
        assert!("64 parsecs".parse::<ByteSize>().unwrap_err().contains("MiB"));
        assert!("lots".parse::<ByteSize>().is_err());
        assert_eq!(ByteSize::mib(64).to_string(), "64MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
    }

    #[test]
    fn spans() {
        assert_eq!("250ms".parse::<Span>(), Ok(Span(Duration::from_millis(250))));
        assert_eq!("2m".parse::<Span>(), Ok(Span(Duration::from_secs(120))));
        assert!("30".parse::<Span>().unwrap_err().contains("no unit"));
        assert!("-1s".parse::<Span>().is_err());
        assert_eq!(Span(Duration::from_secs(30)).to_string(), "30s");
        assert_eq!(Span(Duration::from_millis(1500)).to_string(), "1500ms");
        assert_eq!(Span(Duration::from_secs(7200)).to_string(), "2h");
        assert_eq!(Span(Duration::from_secs(90)).to_string(), "90s");
    }
}
