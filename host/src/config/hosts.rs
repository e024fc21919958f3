//! Host names as configuration writes them: app folder names (one DNS label each) and the
//! extra names the operator grants an app.
//!
//! A name is compared in one form everywhere: lower case, without the trailing dot of a
//! fully qualified name, so that `Shop.Example.com.` and `shop.example.com` are one name.

/// A configured host name in its one form; an error says what is wrong with it.
pub fn normalized(text: &str) -> Result<String, String> {
    let name = text.trim().trim_end_matches('.').to_ascii_lowercase();
    if name.starts_with('[') && name.ends_with(']') {
        return match name[1..name.len() - 1].parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok(name),
            Err(_) => Err(format!("{text:?} is not an IPv6 address")),
        };
    }
    if name.is_empty() || name.len() > 253 {
        return Err(format!("{text:?} is not a host name"));
    }
    if let Some(label) = name.split('.').find(|label| !is_label(label)) {
        let why = if label.is_empty() { "an empty label".to_string() } else { format!("the label {label:?}") };
        return Err(format!(
            "{text:?} is not a host name ({why}: use letters, digits and '-', without a port or a path)"
        ));
    }
    Ok(name)
}

/// One DNS label: 1-63 letters, digits and '-', not starting or ending with '-'.
pub fn is_label(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names() {
        assert_eq!(normalized("Shop.Example.com.").as_deref(), Ok("shop.example.com"));
        assert_eq!(normalized("127.0.0.1").as_deref(), Ok("127.0.0.1"));
        assert_eq!(normalized("[::1]").as_deref(), Ok("[::1]"));
        for bad in ["", "shop.example.com:80", "a/b", "a b", "a..b", "-a.com", "[nope]", "*.localhost"] {
            assert!(normalized(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels() {
        assert!(is_label("my-app2"));
        assert!(!is_label("my_app"));
        assert!(!is_label("-x"));
        assert!(!is_label(""));
    }
}
