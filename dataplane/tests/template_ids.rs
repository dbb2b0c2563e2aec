//! Issue 11 §3: persistence templates refer to reals by ids that never alias.
//! A service that has seen more than 65 536 reals over its life (container
//! churn) gives its newer reals ids above 16 bits; a template must send its
//! client to exactly the real it recorded, never to an older real whose id
//! shares the low bits.
mod common;

use std::net::Ipv4Addr;
use std::sync::Arc;

use common::{real, segment, snapshot, Sink};
use dataplane::snapshot::{Persistence, RealSpec, Snapshot};
use dataplane::{CoreStats, Pipeline};

const OLD_ID: u32 = 5;
const NEW_ID: u32 = 65_536 + OLD_ID;

fn dst_of(f: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(f[30], f[31], f[32], f[33])
}

fn persistent(reals: Vec<RealSpec>) -> Arc<Snapshot> {
    let mut s = snapshot(reals, false);
    s.services[0].persistence = Some(Persistence {
        timeout_s: 360,
        netmask: Ipv4Addr::BROADCAST,
    });
    Arc::new(s)
}

#[test]
fn a_template_never_sends_its_client_to_a_real_sharing_its_low_id_bits() {
    let old = real(OLD_ID, 11);
    let mut old_quiet = old.clone();
    old_quiet.weight = 0;
    let newer = real(NEW_ID, 12);
    let stats = Arc::new(CoreStats::default());
    // The older real is quiesced: the client's template records the newer one.
    let mut p = Pipeline::new(0, 1, persistent(vec![old_quiet, newer.clone()]), stats).unwrap();
    let mut out = Sink::default();
    p.process(segment(40000, 0x02), 0, 1, &mut out);
    assert_eq!(dst_of(&out.sent[0]), newer.addr);
    // Both reals take traffic again; the client's next connections follow its template.
    p.apply(persistent(vec![old, newer.clone()])).unwrap();
    for (i, port) in (40001..40010).enumerate() {
        p.process(segment(port, 0x02), 0, 2 + i as u64, &mut out);
        assert_eq!(
            dst_of(out.sent.last().unwrap()),
            newer.addr,
            "connection {port} follows the template to real id {NEW_ID}"
        );
    }
}
