//! The client's address (S-23). Behind a reverse proxy the TCP peer is the
//! proxy, so every visitor would share one per-client limit; the address
//! the proxy reports is believed only when the peer is one the operator
//! listed in `TRUSTED_PROXIES`. A client can write anything into
//! `X-Forwarded-For`, so it is read from the right: each trusted proxy
//! appends the address it saw, and the right-most entry that is not itself
//! a trusted proxy is the client as far as anyone trustworthy knows.

use std::net::IpAddr;

use actix_web::http::header::HeaderMap;
use ipnet::IpNet;

/// The client of a request from `peer` with `headers`, when the proxies in
/// `trusted` are believed.
pub fn address(peer: Option<IpAddr>, headers: &HeaderMap, trusted: &[IpNet]) -> Option<IpAddr> {
    let peer = peer.map(canonical)?;
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let mut hops = forwarded_for(headers);
    if hops.is_empty() {
        hops = forwarded(headers);
    }
    // Right to left: the first hop not a trusted proxy is the client; if
    // every hop is trusted, the left-most is as far back as it goes.
    let chain: Vec<IpAddr> = hops.into_iter().map(canonical).collect();
    chain
        .iter()
        .rev()
        .find(|ip| !is_trusted(ip))
        .or(chain.first())
        .copied()
        .or(Some(peer))
}

/// `X-Forwarded-For: client, proxy1, proxy2` (every such header, in order).
/// An entry that is not an address ends the chain there: what lies left of
/// it cannot be trusted to be in order.
fn forwarded_for(headers: &HeaderMap) -> Vec<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    valid_suffix(&entries, parse_ip)
}

/// RFC 7239 `Forwarded: for=192.0.2.1;proto=https, for="[2001:db8::1]:443"`.
fn forwarded(headers: &HeaderMap) -> Vec<IpAddr> {
    let entries: Vec<&str> = headers
        .get_all("forwarded")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("for"))
                .map_or("", |(_, v)| v.trim())
        })
        .collect();
    valid_suffix(&entries, |v| {
        let v = v.trim_matches('"');
        // "[v6]:port" or "[v6]", "v4:port" or "v4".
        let host = match v.strip_prefix('[') {
            Some(rest) => rest.split(']').next().unwrap_or(""),
            None => v.split(':').next().unwrap_or(""),
        };
        host.parse().ok()
    })
}

/// The entries after the right-most one that does not parse.
fn valid_suffix(entries: &[&str], parse: impl Fn(&str) -> Option<IpAddr>) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for e in entries.iter().rev() {
        match parse(e) {
            Some(ip) => out.push(ip),
            None => break,
        }
    }
    out.reverse();
    out
}

fn parse_ip(s: &str) -> Option<IpAddr> {
    s.parse()
        .ok()
        .or_else(|| s.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
}

/// `::ffff:192.0.2.1` is 192.0.2.1 (a dual-stack listener reports v4 peers so).
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// `TRUSTED_PROXIES`: addresses or CIDR ranges, separated by commas.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{s:?} is neither an address nor a CIDR range"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                HeaderName::from_bytes(k.as_bytes()).unwrap(),
                HeaderValue::from_str(v).unwrap(),
            );
        }
        h
    }

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let trusted = parse_trusted("10.0.0.0/8").unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(address(ip("203.0.113.9"), &h, &trusted), ip("203.0.113.9"));
        assert_eq!(address(ip("203.0.113.9"), &h, &[]), ip("203.0.113.9"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let trusted = parse_trusted("10.0.0.1, 10.0.0.2").unwrap();
        // The client forged the first entry; the proxies appended the rest.
        let h = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.0.0.2")]);
        assert_eq!(address(ip("10.0.0.1"), &h, &trusted), ip("198.51.100.7"));
        // Split over two headers, as some proxies do.
        let h = headers(&[
            ("x-forwarded-for", "1.2.3.4"),
            ("x-forwarded-for", "198.51.100.7"),
        ]);
        assert_eq!(address(ip("10.0.0.1"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn garbage_ends_the_chain() {
        let trusted = parse_trusted("10.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "198.51.100.7, nonsense")]);
        // Nothing parsable right of the garbage: the proxy itself.
        assert_eq!(address(ip("10.0.0.1"), &h, &trusted), ip("10.0.0.1"));
        let h = headers(&[("x-forwarded-for", "nonsense, 198.51.100.7")]);
        assert_eq!(address(ip("10.0.0.1"), &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let trusted = parse_trusted("10.0.0.1").unwrap();
        let h = headers(&[(
            "forwarded",
            r#"for=192.0.2.60;proto=http, for="[2001:db8:cafe::17]:4711""#,
        )]);
        assert_eq!(
            address(ip("10.0.0.1"), &h, &trusted),
            ip("2001:db8:cafe::17")
        );
    }

    #[test]
    fn mapped_v4_is_v4() {
        let trusted = parse_trusted("127.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "::ffff:192.0.2.1")]);
        assert_eq!(
            address(ip("::ffff:127.0.0.1"), &h, &trusted),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_bad_list_is_refused() {
        assert!(parse_trusted("10.0.0.1, ten").is_err());
        assert_eq!(parse_trusted(" ").unwrap(), vec![]);
    }
}
