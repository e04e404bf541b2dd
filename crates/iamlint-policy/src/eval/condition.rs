//! Condition blocks, three-valued (SEMANTICS.md §A.7): operators AND'ed, keys AND'ed, values
//! OR'ed (NOR for negated operators), `...IfExists`, `Null`, `ForAllValues`/`ForAnyValue`.

use super::matching::{Mode, match_sym};
use super::vars::VarEnv;
use super::{CtxValue, RequestContext, Tri};
use crate::policy::{Condition, ConditionOp, SetQualifier};
use iamlint_core::SymStr;
use std::net::IpAddr;

/// Evaluates one condition (one operator, one key) against the request context.
pub(crate) fn eval_condition(cond: &Condition, ctx: &RequestContext, variables: bool) -> Tri {
    let op = &cond.operator;
    let looked_up = match cond.key_lower() {
        Some(key) => ctx.lookup_lowered(key),
        None => ctx.lookup(&cond.key),
    };
    if op.base == ConditionOp::Null {
        let present = match looked_up {
            CtxValue::Known(v) if !v.is_empty() => Tri::Yes,
            CtxValue::Known(_) | CtxValue::Absent => Tri::No,
            CtxValue::Unknown => Tri::Maybe,
        };
        let mut out = Tri::No;
        for p in &cond.values {
            let t = match p.value.as_literal() {
                Some(s) if s.eq_ignore_ascii_case("true") => present.not(),
                Some(s) if s.eq_ignore_ascii_case("false") => present,
                Some(_) => Tri::No,
                None => Tri::Maybe,
            };
            out = out.or(t);
        }
        return out;
    }
    let request_values: &[SymStr] = match looked_up {
        CtxValue::Unknown => return Tri::Maybe,
        CtxValue::Absent => &[],
        CtxValue::Known(v) => v,
    };
    if request_values.is_empty() {
        if op.if_exists {
            return Tri::Yes;
        }
        return match op.qualifier {
            Some(SetQualifier::ForAllValues) => Tri::Yes,
            Some(SetQualifier::ForAnyValue) => Tri::No,
            None => Tri::from(op.base.is_negated()),
        };
    }
    let env = VarEnv { ctx };
    let vars = (variables && op.base.allows_variables()).then_some(&env);
    let positive = op.base.positive();
    let negated = op.base.is_negated();
    let any_policy_value = |r: &SymStr| {
        let mut t = Tri::No;
        // The request's address is parsed once for all the policy's ranges, which were parsed
        // with the policy.
        let request_ip = if positive == ConditionOp::IpAddress {
            r.as_literal().map(parse_cidr)
        } else {
            None
        };
        for (k, p) in cond.values.iter().enumerate() {
            let m = match (request_ip, cond.cidr(k)) {
                (Some(ip), Some(range)) if p.value.is_literal() => Tri::from(match (ip, range) {
                    (Some((ip, _)), Some((net, bits))) => ip_in(ip, net, bits),
                    _ => false,
                }),
                _ => compare(positive, r, &p.value, vars),
            };
            t = t.or(m);
            if t == Tri::Yes {
                break;
            }
        }
        t
    };
    match op.qualifier {
        None => {
            let mut t = Tri::No;
            for r in request_values {
                t = t.or(any_policy_value(r));
            }
            if negated { t.not() } else { t }
        }
        Some(SetQualifier::ForAnyValue) => {
            let mut t = Tri::No;
            for r in request_values {
                let m = any_policy_value(r);
                t = t.or(if negated { m.not() } else { m });
            }
            t
        }
        Some(SetQualifier::ForAllValues) => {
            let mut t = Tri::Yes;
            for r in request_values {
                let m = any_policy_value(r);
                t = t.and(if negated { m.not() } else { m });
            }
            t
        }
    }
}

/// One request value against one policy value under a positive operator.
fn compare(op: ConditionOp, request: &SymStr, policy: &SymStr, vars: Option<&VarEnv<'_>>) -> Tri {
    use ConditionOp::*;
    match op {
        StringEquals => match_sym(policy, request, Mode::Exact, false, vars),
        StringEqualsIgnoreCase => match_sym(policy, request, Mode::Exact, true, vars),
        StringLike => match_sym(policy, request, Mode::Glob, false, vars),
        ArnEquals | ArnLike => match_sym(policy, request, Mode::ArnCondition, false, vars),
        Bool => match_sym(policy, request, Mode::Exact, true, vars),
        _ => {
            let (Some(r), Some(p)) = (request.as_literal(), policy.as_literal()) else {
                return Tri::Maybe;
            };
            Tri::from(compare_literal(op, r, p))
        }
    }
}

fn compare_literal(op: ConditionOp, r: &str, p: &str) -> bool {
    use ConditionOp::*;
    match op {
        NumericEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            let (Ok(a), Ok(b)) = (r.trim().parse::<f64>(), p.trim().parse::<f64>()) else {
                return false;
            };
            ordered(op, a.partial_cmp(&b))
        }
        DateEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => {
            let (Some(a), Some(b)) = (parse_date(r), parse_date(p)) else {
                return false;
            };
            ordered(op, a.partial_cmp(&b))
        }
        IpAddress => match (parse_cidr(r), parse_cidr(p)) {
            (Some((ip, _)), Some((net, bits))) => ip_in(ip, net, bits),
            _ => false,
        },
        BinaryEquals => match (base64_decode(r), base64_decode(p)) {
            (Some(a), Some(b)) => a == b,
            _ => r == p,
        },
        _ => false,
    }
}

fn ordered(op: ConditionOp, ord: Option<std::cmp::Ordering>) -> bool {
    use ConditionOp::*;
    use std::cmp::Ordering::*;
    let Some(ord) = ord else { return false };
    match op {
        NumericEquals | DateEquals => ord == Equal,
        NumericLessThan | DateLessThan => ord == Less,
        NumericLessThanEquals | DateLessThanEquals => ord != Greater,
        NumericGreaterThan | DateGreaterThan => ord == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ord != Less,
        _ => false,
    }
}

/// ISO 8601 (W3C profile: `2024-01-31`, `2024-01-31T12:00Z`, `2024-01-31T12:00:00.5+02:00`) or
/// epoch seconds, as seconds since the epoch.
pub(crate) fn parse_date(s: &str) -> Option<f64> {
    let s = s.trim();
    if let Ok(n) = s.parse::<f64>() {
        return Some(n);
    }
    let b = s.as_bytes();
    let num = |from: usize, len: usize| -> Option<i64> {
        let t = s.get(from..from + len)?;
        if !t.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        t.parse().ok()
    };
    let year = num(0, 4)?;
    let (month, day) = if b.len() >= 10 && b.get(4) == Some(&b'-') && b.get(7) == Some(&b'-') {
        (num(5, 2)?, num(8, 2)?)
    } else if b.len() == 4 {
        (1, 1)
    } else if b.len() == 7 && b.get(4) == Some(&b'-') {
        (num(5, 2)?, 1)
    } else {
        return None;
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let mut secs = days_from_civil(year, month, day) as f64 * 86_400.0;
    if b.len() > 10 {
        let mut i;
        if b[10] != b'T' && b[10] != b't' && b[10] != b' ' {
            return None;
        }
        let h = num(11, 2)?;
        if b.get(13) != Some(&b':') {
            return None;
        }
        let m = num(14, 2)?;
        secs += (h * 3600 + m * 60) as f64;
        i = 16;
        if b.get(16) == Some(&b':') {
            secs += num(17, 2)? as f64;
            i = 19;
            if b.get(19) == Some(&b'.') {
                let mut j = 20;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                secs += s.get(19..j)?.parse::<f64>().ok()?;
                i = j;
            }
        }
        match b.get(i) {
            None => {}
            Some(b'Z' | b'z') if i + 1 == b.len() => {}
            Some(&sign @ (b'+' | b'-')) => {
                let oh = num(i + 1, 2)?;
                let om = if b.get(i + 3) == Some(&b':') {
                    num(i + 4, 2)?
                } else {
                    num(i + 3, 2)?
                };
                let off = (oh * 3600 + om * 60) as f64;
                secs += if sign == b'+' { -off } else { off };
            }
            _ => return None,
        }
    }
    Some(secs)
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128).
pub(crate) fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    // This runs for every `IpAddress` value of every statement that applies: the usual
    // `a.b.c.d[/n]` takes one pass over the bytes.
    if let Some(fast) = ipv4_cidr(s.as_bytes()) {
        return Some(fast);
    }
    let s = s.trim();
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
        None => (s, None),
    };
    let ip: IpAddr = addr.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

/// `a.b.c.d` or `a.b.c.d/n` exactly as [`parse_cidr`]'s general path reads them (octets without
/// leading zeros, as `Ipv4Addr::from_str`; `n` up to three digits); `None` for anything else,
/// which that path then decides.
fn ipv4_cidr(b: &[u8]) -> Option<(IpAddr, u8)> {
    let mut octets = [0u8; 4];
    let mut k = 0usize;
    let mut value = 0u16;
    let mut digits = 0usize;
    let mut first_digit = 0u8;
    let mut i = 0usize;
    let mut end_octet = |value: u16, digits: usize, first_digit: u8, k: usize| -> Option<()> {
        if digits == 0 || digits > 3 || (digits > 1 && first_digit == b'0') || k > 3 {
            return None;
        }
        octets[k] = u8::try_from(value).ok()?;
        Some(())
    };
    while i < b.len() {
        let c = b[i];
        match c {
            b'0'..=b'9' => {
                if digits == 0 {
                    first_digit = c;
                }
                value = value * 10 + u16::from(c - b'0');
                digits += 1;
                if digits > 3 {
                    return None;
                }
            }
            b'.' => {
                end_octet(value, digits, first_digit, k)?;
                k += 1;
                (value, digits) = (0, 0);
            }
            b'/' => break,
            _ => return None,
        }
        i += 1;
    }
    end_octet(value, digits, first_digit, k)?;
    if k != 3 {
        return None;
    }
    let bits = match b.get(i) {
        None => 32,
        Some(_) => {
            let n = &b[i + 1..];
            if n.is_empty() || n.len() > 3 || !n.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let bits = n
                .iter()
                .fold(0u16, |acc, &d| acc * 10 + u16::from(d - b'0'));
            if bits > 32 {
                return None;
            }
            u8::try_from(bits).ok()?
        }
    };
    Some((IpAddr::V4(std::net::Ipv4Addr::from(octets)), bits))
}

fn ip_in(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - u32::from(bits))
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - u32::from(bits))
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut n = 0u32;
    for c in s.trim().bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            b'=' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((acc >> n) as u8);
            acc &= (1 << n) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert_eq!(parse_date("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(parse_date("1970-01-02"), Some(86_400.0));
        assert_eq!(parse_date("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(parse_date("86400"), Some(86_400.0));
        assert_eq!(parse_date("2024-13-01"), None);
        assert_eq!(parse_date("2020-01-01T00:00:00Z"), Some(1_577_836_800.0));
    }

    #[test]
    fn fast_ipv4_agrees_with_the_general_path() {
        let general = |s: &str| {
            let (addr, bits) = match s.split_once('/') {
                Some((a, b)) => (a, Some(b.parse::<u8>().ok()?)),
                None => (s, None),
            };
            let ip: IpAddr = addr.parse().ok()?;
            let bits = bits.unwrap_or(32);
            (ip.is_ipv4() && bits <= 32).then_some((ip, bits))
        };
        for s in [
            "10.0.0.1",
            "255.255.255.255",
            "0.0.0.0",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3",
            "1.2.3.4.5",
            "1..2.3",
            "a.b.c.d",
            "1.2.3.-4",
            "1.2.3.4 ",
            "",
            "10.0.0.0/8",
            "10.0.0.0/08",
            "10.0.0.0/33",
            "10.0.0.0/",
            "10.0.0.0/1/2",
            "1.2.3.4/0",
            "1.2.3.4/032",
            "1.2.3.4/+8",
        ] {
            if let Some(fast) = ipv4_cidr(s.as_bytes()) {
                assert_eq!(Some(fast), general(s), "{s}");
            }
        }
        assert!(ipv4_cidr(b"10.1.2.3").is_some());
        assert!(ipv4_cidr(b"10.0.0.0/8").is_some());
        assert_eq!(parse_cidr(" 10.0.0.0/8 ").map(|c| c.1), Some(8));
        assert_eq!(parse_cidr("2001:db8::/32").map(|c| c.1), Some(32));
    }

    #[test]
    fn ips() {
        let (ip, _) = parse_cidr("10.1.2.3").expect("ip");
        let (net, bits) = parse_cidr("10.0.0.0/8").expect("net");
        assert!(ip_in(ip, net, bits));
        let (ip6, _) = parse_cidr("2001:db8::1").expect("ip6");
        let (net6, bits6) = parse_cidr("2001:db8::/32").expect("net6");
        assert!(ip_in(ip6, net6, bits6));
        assert!(!ip_in(ip, net6, bits6));
    }

    #[test]
    fn base64() {
        assert_eq!(base64_decode("aGVsbG8="), Some(b"hello".to_vec()));
    }
}
