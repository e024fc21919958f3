//! The time zone an app's local time is in (ASTRA_API.md, decision 7): its `astra.toml`
//! `timezone`, an IANA name such as `Europe/Berlin`, or else the host's own zone.
//!
//! The guest has no zone database, and bundling one into every instance would cost each its
//! share of it. The host reads the one zone's TZif file from the system's database instead
//! (`$TZDIR`, else `/usr/share/zoneinfo`) and hands its bytes to every instance, which
//! computes offsets, daylight saving time included, by itself. The name is the tenant's:
//! it must be a plain relative name, so that it cannot reach a file outside the database.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// Real TZif files are a few KiB.
const MAX_TZIF: u64 = 256 << 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TimeZone {
    pub name: String,
    pub tzif: Arc<[u8]>,
}

/// The zone a `timezone = "..."` names, or why it names none.
pub fn named(name: &str) -> Result<TimeZone, String> {
    let valid_part = |part: &str| {
        !part.is_empty()
            && !part.starts_with('.')
            && part.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+'))
    };
    if name.len() > 64 || !name.split('/').all(valid_part) {
        return Err(format!("{name:?} is not a time zone name (an IANA name such as \"Europe/Berlin\")"));
    }
    let path = database().join(name);
    let tzif = read_tzif(&path).map_err(|reason| format!("time zone {name:?}: {reason}"))?;
    Ok(TimeZone { name: name.to_string(), tzif })
}

/// The host's own zone, found once: `$TZ` (a name, or `:name`, or a file's path), else
/// `/etc/localtime`. None when neither says, and then local time is UTC.
pub fn host() -> Option<TimeZone> {
    static HOST: OnceLock<Option<TimeZone>> = OnceLock::new();
    HOST.get_or_init(|| {
        let found = find_host_zone();
        match &found {
            Ok(zone) => tracing::debug!("the host's time zone is {}", zone.name),
            Err(reason) => tracing::warn!("{reason}: apps without a timezone in astra.toml keep local time in UTC"),
        }
        found.ok()
    })
    .clone()
}

fn find_host_zone() -> Result<TimeZone, String> {
    if let Ok(tz) = std::env::var("TZ")
        && !tz.is_empty()
    {
        let tz = tz.strip_prefix(':').unwrap_or(&tz);
        if tz.starts_with('/') {
            let tzif = read_tzif(Path::new(tz)).map_err(|reason| format!("TZ={tz}: {reason}"))?;
            return Ok(TimeZone { name: zone_name_of(Path::new(tz)), tzif });
        }
        return named(tz).map_err(|reason| format!("TZ: {reason}"));
    }
    let localtime = Path::new("/etc/localtime");
    let tzif =
        read_tzif(localtime).map_err(|reason| format!("the host's time zone is unknown: /etc/localtime: {reason}"))?;
    let name = std::fs::read_link(localtime).map(|target| zone_name_of(&target)).unwrap_or_else(|_| "localtime".into());
    Ok(TimeZone { name, tzif })
}

/// `Europe/Berlin` for `/usr/share/zoneinfo/Europe/Berlin`.
fn zone_name_of(path: &Path) -> String {
    let shown = path.to_string_lossy();
    match shown.split_once("zoneinfo/") {
        Some((_, name)) => name.to_string(),
        None => shown.into_owned(),
    }
}

fn database() -> PathBuf {
    std::env::var_os("TZDIR").map_or_else(|| PathBuf::from("/usr/share/zoneinfo"), PathBuf::from)
}

fn read_tzif(path: &Path) -> Result<Arc<[u8]>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!("no such zone in {}", path.parent().unwrap_or(path).display()),
        _ => e.to_string(),
    })?;
    if !file.metadata().map_err(|e| e.to_string())?.is_file() {
        return Err("not a zone file".into());
    }
    let mut bytes = Vec::new();
    file.take(MAX_TZIF + 1).read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    if bytes.len() as u64 > MAX_TZIF || !bytes.starts_with(b"TZif") {
        return Err("not a TZif zone file".into());
    }
    Ok(bytes.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_cannot_leave_the_database() {
        for name in ["../../etc/passwd", "/etc/localtime", "Europe/../../x", ".hidden", "", "a//b", "Europe/Berlin\0"] {
            let error = named(name).unwrap_err();
            assert!(error.contains("is not a time zone name"), "{name:?}: {error}");
        }
    }

    #[test]
    fn a_zone_of_the_database_is_read() {
        // `make test` installs tzdata (scripts/bootstrap.sh test).
        let zone = named("Europe/Berlin").unwrap();
        assert!(zone.tzif.starts_with(b"TZif"));
        assert!(named("Europe/Nowhere").unwrap_err().contains("no such zone"));
    }
}
