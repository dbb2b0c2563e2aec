//! ipvsadm's tables of legal options per command and per tunnel type.
use super::*;

/// An option given twice is refused, as ipvsadm refuses it.
pub(super) fn set(p: &mut Parsed, b: usize) -> Result<(), Exit> {
    if p.has(b) {
        return Err(fail(format!(
            "multiple '{}' options specified",
            OPTNAMES[b]
        )));
    }
    p.options |= 1 << b;
    Ok(())
}

/// ipvsadm's `tunnel_opt_check`: which of `--tun-port`, `--tun-nocsum`,
/// `--tun-csum`, `--tun-remcsum` each tunnel type takes ('+' compulsory,
/// 'x' illegal, '1' at most one of them).
pub(super) fn check_tunnel(p: &Parsed) -> Result<(), Exit> {
    let kind = p.tun_type.unwrap_or_default();
    let row: &[u8; 4] = match kind {
        TunType::Ipip => b"xxxx",
        TunType::Gue => b"+111",
        TunType::Gre => b"x11x",
    };
    let bits = [
        bit::TUN_PORT,
        bit::TUN_NOCSUM,
        bit::TUN_CSUM,
        bit::TUN_REMCSUM,
    ];
    check_table(p, row, &bits, &format!("'{kind}' tunnel type"))
}

/// ipvsadm's `generic_opt_check`.
pub(super) fn check_options(p: &Parsed) -> Result<(), Exit> {
    let bits: Vec<usize> = (0..NOPT).collect();
    check_table(
        p,
        p.cmd.legal(),
        &bits,
        &format!("'{}' command", p.cmd.name()),
    )
}

/// One row of an ipvsadm table of legal options: `row[k]` says whether
/// option `bits[k]` may be given to `what` ("'add-server' command").
fn check_table(p: &Parsed, row: &[u8], bits: &[usize], what: &str) -> Result<(), Exit> {
    let mut last: Option<usize> = None;
    for (legal, &j) in row.iter().zip(bits) {
        if !p.has(j) {
            if *legal == b'+' {
                return Err(fail(format!(
                    "You need to supply the '{}' option for the {what}",
                    OPTNAMES[j]
                )));
            }
            continue;
        }
        match legal {
            b'x' => {
                return Err(fail(format!(
                    "Illegal '{}' option with the {what}",
                    OPTNAMES[j]
                )))
            }
            b'1' => {
                if let Some(l) = last {
                    return Err(fail(format!(
                        "The option '{}' conflicts with the '{}' option in the {what}",
                        OPTNAMES[j], OPTNAMES[l]
                    )));
                }
                last = Some(j);
            }
            _ => {}
        }
    }
    Ok(())
}
