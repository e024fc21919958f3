//! Where an app may connect: pure rules, no I/O.
//!
//! Two lists decide. The app's `astra.toml` declares the destinations it needs
//! (`[network] allow`); the operator's config grants the risky ones (`[apps.<name>.network]
//! allow`). A destination is reached only if the app declared it, and only at a public
//! address unless the operator granted it too: a tenant must not reach the operator's
//! database or a cloud metadata service by declaring it. Addresses are checked after the
//! name is resolved, so a public name that resolves to 127.0.0.1 is refused as 127.0.0.1.
//!
//! A rule is `scheme://host[:port]`, as Spin's `allowed_outbound_hosts` writes them:
//! `https://api.example.com`, `postgres://db.internal:5432`, `http://*.example.com:8080`,
//! `*://10.0.0.5:*`. No port means the scheme's default; `*` matches any scheme, host or
//! port, and `*.example.com` any name below example.com (not example.com itself).

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One `scheme://host[:port]` rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Destination {
    scheme: Option<String>,
    host: HostPattern,
    port: Option<u16>,
    text: String,
}

#[derive(Clone, Debug, PartialEq)]
enum HostPattern {
    Any,
    Name(String),
    /// `*.example.com`: the suffix with its leading dot.
    Below(String),
    Ip(IpAddr),
}

/// The port a scheme means when none is written.
pub fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "postgres" | "postgresql" => Some(5432),
        _ => None,
    }
}

impl Destination {
    pub fn parse(text: &str) -> Result<Destination, String> {
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| format!("{text:?} is not scheme://host[:port] (e.g. \"https://api.example.com\")"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme.is_empty() || !(scheme == "*" || scheme.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+')) {
            return Err(format!("{text:?}: the scheme must be a name such as https, or *"));
        }
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.contains(['/', '?', '#', '@']) {
            return Err(format!("{text:?}: only scheme://host[:port], without a path, query or user"));
        }
        let (host, port) = split_port(rest).map_err(|e| format!("{text:?}: {e}"))?;
        let host = parse_host(host).map_err(|e| format!("{text:?}: {e}"))?;
        let port = match port {
            Some("*") => None,
            Some(port) => Some(
                port.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("{text:?}: bad port {port:?}"))?,
            ),
            None => match default_port(&scheme) {
                Some(port) => Some(port),
                None => return Err(format!("{text:?}: give a port (or :*): {scheme} has no default port")),
            },
        };
        let scheme = (scheme != "*").then_some(scheme);
        Ok(Destination { scheme, host, port, text: text.to_string() })
    }

    /// Whether a connection to `host:port` by `scheme` is this rule's. `host` is as the app
    /// wrote it, in lower case; an IP literal matches only a rule naming that address.
    pub fn matches(&self, scheme: &str, host: &str, port: u16) -> bool {
        let scheme_ok = self.scheme.as_deref().is_none_or(|rule| rule == scheme || same_scheme(rule, scheme));
        let port_ok = self.port.is_none_or(|rule| rule == port);
        let host_ok = match &self.host {
            HostPattern::Any => true,
            HostPattern::Name(name) => name == host,
            HostPattern::Below(suffix) => host.len() > suffix.len() && host.ends_with(suffix.as_str()),
            HostPattern::Ip(ip) => parse_ip(host) == Some(*ip),
        };
        scheme_ok && port_ok && host_ok
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn same_scheme(a: &str, b: &str) -> bool {
    matches!((a, b), ("postgres", "postgresql") | ("postgresql", "postgres"))
}

/// `host:port`, `[v6]:port`, `host`; the port is returned as written.
fn split_port(text: &str) -> Result<(&str, Option<&str>), String> {
    if let Some(bracketed) = text.strip_prefix('[') {
        let (ip, after) = bracketed.split_once(']').ok_or("an IPv6 address needs its closing ]")?;
        return match after {
            "" => Ok((ip, None)),
            _ => after.strip_prefix(':').map(|port| (ip, Some(port))).ok_or_else(|| "junk after ]".to_string()),
        };
    }
    Ok(match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    })
}

fn parse_host(host: &str) -> Result<HostPattern, String> {
    let host = host.to_ascii_lowercase();
    if host == "*" {
        return Ok(HostPattern::Any);
    }
    if let Some(ip) = parse_ip(&host) {
        return Ok(HostPattern::Ip(ip));
    }
    let (below, name) = match host.strip_prefix("*.") {
        Some(name) => (true, name),
        None => (false, host.as_str()),
    };
    let valid = !name.is_empty()
        && name.split('.').all(|label| {
            !label.is_empty() && label.len() <= 63 && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return Err(format!("{host:?} is not a host name, *.domain, an IP address or *"));
    }
    Ok(if below { HostPattern::Below(format!(".{name}")) } else { HostPattern::Name(name.to_string()) })
}

fn parse_ip(host: &str) -> Option<IpAddr> {
    let host = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    host.parse().ok()
}

/// A list of rules, as one `allow` array.
#[derive(Clone, Debug, Default)]
pub struct AllowList(Vec<Destination>);

impl AllowList {
    /// Parses every rule; an error names the first bad one by its index in `key`.
    pub fn parse(rules: &[String], key: &str) -> Result<AllowList, String> {
        rules
            .iter()
            .enumerate()
            .map(|(index, rule)| Destination::parse(rule).map_err(|e| format!("{key}[{index}]: {e}")))
            .collect::<Result<_, _>>()
            .map(AllowList)
    }

    pub fn find(&self, scheme: &str, host: &str, port: u16) -> Option<&Destination> {
        self.0.iter().find(|rule| rule.matches(scheme, host, port))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// What kind of network an address is on. Only `Public` is reachable without a grant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressClass {
    Public,
    Loopback,
    /// RFC 1918, unique-local IPv6, and the carrier-grade NAT range.
    Private,
    /// 169.254/16 (cloud metadata services live there) and fe80::/10.
    LinkLocal,
    /// 0.0.0.0, ::, and "this network".
    Unspecified,
    Multicast,
    /// Documentation, benchmarking, reserved and broadcast ranges: never a real service.
    Reserved,
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AddressClass::Public => "public",
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::Unspecified => "unspecified",
            AddressClass::Multicast => "multicast",
            AddressClass::Reserved => "reserved",
        })
    }
}

pub fn classify(ip: IpAddr) -> AddressClass {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> AddressClass {
    let [a, b, c, _] = ip.octets();
    match (a, b, c) {
        (0, ..) => AddressClass::Unspecified,
        (127, ..) => AddressClass::Loopback,
        (10, ..) | (192, 168, _) => AddressClass::Private,
        (172, 16..=31, _) | (100, 64..=127, _) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (224..=239, ..) => AddressClass::Multicast,
        (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) | (198, 18..=19, _) | (240..=255, ..) => {
            AddressClass::Reserved
        }
        _ => AddressClass::Public,
    }
}

fn classify_v6(ip: Ipv6Addr) -> AddressClass {
    // Addresses that carry an IPv4 address are what that address is: ::ffff:127.0.0.1
    // reaches loopback, and so does the NAT64 form of a private address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let segments = ip.segments();
    if segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, high, low] = segments;
        return classify_v4(Ipv4Addr::from(((high as u32) << 16) | low as u32));
    }
    if ip.is_unspecified() {
        return AddressClass::Unspecified;
    }
    if ip.is_loopback() {
        return AddressClass::Loopback;
    }
    match segments[0] {
        0xfc00..=0xfdff => AddressClass::Private,
        0xfe80..=0xfebf => AddressClass::LinkLocal,
        0xff00..=0xffff => AddressClass::Multicast,
        // 2001:db8::/32 is for documentation; ::/8 (bar the forms above) is reserved, and so
        // are the old site-local fec0::/10 and 6to4 2002::/16, which embed arbitrary v4.
        0x2001 if segments[1] == 0xdb8 => AddressClass::Reserved,
        0x0000..=0x00ff | 0xfec0..=0xfeff | 0x2002 => AddressClass::Reserved,
        _ => AddressClass::Public,
    }
}

/// An app's egress rules: what it declared, and what the operator granted it.
#[derive(Clone, Debug, Default)]
pub struct EgressPolicy {
    pub declared: AllowList,
    pub granted: AllowList,
}

/// Why a connection is refused, naming the rule to add.
#[derive(Clone, Debug, PartialEq)]
pub struct Denied(pub String);

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl EgressPolicy {
    /// Before any I/O: the app must have declared the destination.
    pub fn check_destination(&self, scheme: &str, host: &str, port: u16) -> Result<(), Denied> {
        if self.declared.find(scheme, host, port).is_some() {
            return Ok(());
        }
        Err(Denied(format!(
            "{scheme}://{}:{port} is not in the app's network allow-list (astra.toml: [network] allow = [\"{scheme}://{}:{port}\"])",
            bracketed(host),
            bracketed(host)
        )))
    }

    /// After resolving: an address that is not public needs the operator's grant.
    pub fn check_address(&self, scheme: &str, host: &str, port: u16, ip: IpAddr) -> Result<(), Denied> {
        let class = classify(ip);
        if class == AddressClass::Public || self.granted.find(scheme, host, port).is_some() {
            return Ok(());
        }
        Err(Denied(format!(
            "{host} resolves to {ip}, a {class} address: the operator must grant it ([apps.<name>.network] allow in the host's config)"
        )))
    }
}

fn bracketed(host: &str) -> String {
    if host.contains(':') { format!("[{host}]") } else { host.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(text: &str) -> Destination {
        Destination::parse(text).unwrap()
    }

    #[test]
    fn rules_match_scheme_host_and_port() {
        let cases = [
            ("https://api.example.com", "https", "api.example.com", 443, true),
            ("https://api.example.com", "https", "api.example.com", 8443, false),
            ("https://api.example.com", "http", "api.example.com", 443, false),
            ("https://api.example.com", "https", "evil.com", 443, false),
            ("https://API.Example.com/", "https", "api.example.com", 443, true),
            ("http://*.internal:8080", "http", "a.b.internal", 8080, true),
            ("http://*.internal:8080", "http", "internal", 8080, false),
            ("http://*.internal:8080", "http", "xinternal", 8080, false),
            ("*://10.0.0.5:*", "postgres", "10.0.0.5", 6543, true),
            ("*://10.0.0.5:*", "postgres", "10.0.0.6", 6543, false),
            ("postgres://127.0.0.1", "postgres", "127.0.0.1", 5432, true),
            ("postgres://127.0.0.1", "postgresql", "127.0.0.1", 5432, true),
            ("postgres://[::1]:5433", "postgres", "::1", 5433, true),
            ("postgres://[::1]:5433", "postgres", "[::1]", 5433, true),
            ("https://*:443", "https", "anything.example", 443, true),
        ];
        for (text, scheme, host, port, expected) in cases {
            assert_eq!(rule(text).matches(scheme, host, port), expected, "{text} against {scheme}://{host}:{port}");
        }
    }

    #[test]
    fn bad_rules_are_refused_with_the_reason() {
        for (text, reason) in [
            ("api.example.com", "scheme://host"),
            ("https://api.example.com/v1", "without a path"),
            ("https://user@api.example.com", "without a path"),
            ("https://api.example.com:0", "bad port"),
            ("https://api.example.com:99999", "bad port"),
            ("ftp://files.example.com", "no default port"),
            ("https://exa mple.com", "not a host name"),
            ("https://*.", "not a host name"),
            ("https://[::1", "closing ]"),
        ] {
            let error = Destination::parse(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
        let error = AllowList::parse(&["https://a.com".into(), "nope".into()], "network.allow").unwrap_err();
        assert!(error.starts_with("network.allow[1]: "), "{error}");
    }

    #[test]
    fn addresses_are_classified() {
        let cases = [
            ("8.8.8.8", AddressClass::Public),
            ("127.0.0.1", AddressClass::Loopback),
            ("127.255.0.9", AddressClass::Loopback),
            ("10.1.2.3", AddressClass::Private),
            ("172.16.0.1", AddressClass::Private),
            ("172.32.0.1", AddressClass::Public),
            ("192.168.1.1", AddressClass::Private),
            ("100.64.0.1", AddressClass::Private),
            ("169.254.169.254", AddressClass::LinkLocal),
            ("0.0.0.0", AddressClass::Unspecified),
            ("224.0.0.1", AddressClass::Multicast),
            ("255.255.255.255", AddressClass::Reserved),
            ("192.0.2.1", AddressClass::Reserved),
            ("::1", AddressClass::Loopback),
            ("::", AddressClass::Unspecified),
            ("::ffff:127.0.0.1", AddressClass::Loopback),
            ("::ffff:8.8.8.8", AddressClass::Public),
            ("64:ff9b::a00:1", AddressClass::Private),
            ("fd00::1", AddressClass::Private),
            ("fe80::1", AddressClass::LinkLocal),
            ("ff02::1", AddressClass::Multicast),
            ("2001:db8::1", AddressClass::Reserved),
            ("2002:7f00:1::", AddressClass::Reserved),
            ("::127.0.0.1", AddressClass::Reserved),
            ("2606:4700::1111", AddressClass::Public),
        ];
        for (ip, class) in cases {
            assert_eq!(classify(ip.parse().unwrap()), class, "{ip}");
        }
    }

    #[test]
    fn a_declared_public_destination_is_reached_and_a_private_one_needs_a_grant() {
        let declared =
            AllowList::parse(&["postgres://db.example.com".into(), "postgres://127.0.0.1:*".into()], "d").unwrap();
        let mut policy = EgressPolicy { declared, granted: AllowList::default() };
        let public: IpAddr = "93.184.216.34".parse().unwrap();
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        assert!(policy.check_destination("postgres", "db.example.com", 5432).is_ok());
        assert!(
            policy.check_destination("postgres", "other.example.com", 5432).unwrap_err().0.contains("[network] allow")
        );
        assert!(policy.check_address("postgres", "db.example.com", 5432, public).is_ok());
        // DNS pointing a declared name at loopback is refused as loopback.
        let denied = policy.check_address("postgres", "db.example.com", 5432, loopback).unwrap_err();
        assert!(denied.0.contains("loopback") && denied.0.contains("operator"), "{denied}");
        assert!(policy.check_address("postgres", "127.0.0.1", 5432, loopback).is_err());
        policy.granted = AllowList::parse(&["postgres://127.0.0.1:*".into()], "g").unwrap();
        assert!(policy.check_address("postgres", "127.0.0.1", 6000, loopback).is_ok());
        // A grant covers the granted name only.
        assert!(policy.check_address("postgres", "db.example.com", 5432, loopback).is_err());
    }
}
