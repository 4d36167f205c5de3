//! Human quantities on the command line: capacities (`10GB`, `1.5GiB`) and
//! durations (`10min`, `500ms`).

use std::time::Duration;

/// Parse a capacity: a decimal number with an optional unit among B, kB, MB,
/// GB, TB (powers of 1000) and KiB, MiB, GiB, TiB (powers of 1024),
/// case-insensitive.
pub fn parse_capacity(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.strip_prefix('-').is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit() || c == '.')) {
        return Err(format!("invalid capacity \"{text}\": a capacity must be positive, e.g. 10GB"));
    }
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    if number.is_empty() {
        return Err(format!("invalid capacity \"{text}\": expected a number followed by a unit, e.g. 10GB"));
    }
    let multiplier: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "invalid capacity \"{text}\": unknown unit \"{other}\" (use B, kB, MB, GB, TB, KiB, MiB, GiB or TiB)"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("invalid capacity \"{text}\": expected a number followed by a unit, e.g. 10GB"))?;
    let bytes = (value * multiplier as f64).round();
    if !bytes.is_finite() || bytes < 1.0 || bytes > u64::MAX as f64 {
        return Err(format!("invalid capacity \"{text}\": must be between 1 byte and 16 EiB"));
    }
    Ok(bytes as u64)
}

/// Render a byte count for people (`10 GB`, `1.5 GiB` style, decimal units).
pub fn format_capacity(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 || value.fract() == 0.0 {
        format!("{} {}", value, UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// Parse a duration: an integer with a unit among ms, s, min, h, d.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number
        .parse()
        .map_err(|_| format!("invalid duration \"{text}\": expected a whole number and a unit, e.g. 10min"))?;
    let seconds = match unit {
        "ms" => return Ok(Duration::from_millis(n)),
        "s" => 1,
        "min" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => {
            return Err(format!("invalid duration \"{text}\": unit must be ms, s, min, h or d"));
        }
    };
    n.checked_mul(seconds).map(Duration::from_secs).ok_or_else(|| format!("invalid duration \"{text}\": too large"))
}

/// Render a duration in the largest exact unit (`10min`, `90s`, `500ms`).
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let s = d.as_secs();
    for (unit, size) in [("d", 86400), ("h", 3600), ("min", 60)] {
        if s >= size && s.is_multiple_of(size) {
            return format!("{}{unit}", s / size);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capacities_in_every_unit() {
        assert_eq!(parse_capacity("10GB").unwrap(), 10_000_000_000);
        assert_eq!(parse_capacity("10gb").unwrap(), 10_000_000_000);
        assert_eq!(parse_capacity("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_capacity("6.25kb").unwrap(), 6250);
        assert_eq!(parse_capacity("512").unwrap(), 512);
        assert_eq!(parse_capacity("2 TiB").unwrap(), 2 << 40);
    }

    #[test]
    fn bad_capacities_are_refused() {
        for bad in ["10XB", "", "GB", "-1GB", "0", "1.2.3GB", "99999999999TB"] {
            assert!(parse_capacity(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_round_trip() {
        for text in ["10min", "500ms", "90s", "2h", "3d"] {
            assert_eq!(format_duration(parse_duration(text).unwrap()), text);
        }
        assert!(parse_duration("10 minutes").is_err());
        assert!(parse_duration("min").is_err());
    }

    #[test]
    fn capacity_rendering() {
        assert_eq!(format_capacity(10_000_000_000), "10 GB");
        assert_eq!(format_capacity(1_500_000), "1.5 MB");
        assert_eq!(format_capacity(12), "12 B");
    }
}
