use super::*;

fn base(version: Version) -> Params {
    Params {
        version,
        vrid: 51,
        priority: 100,
        advert_int_cs: 100,
        initial: InitialState::Backup,
        preempt: true,
        preempt_delay_ms: 0,
        primary: Ipv4Addr::new(10, 0, 0, 1),
        addresses: vec![Ipv4Addr::new(10, 0, 0, 100)],
        auth_pass: None,
        unicast: false,
        send_checksum: ChecksumForm::PseudoHeader,
        garp_delay_ms: 0,
    }
}

#[test]
fn validate_accepts_keepalived_defaults() {
    assert_eq!(base(Version::V2).validate(), Ok(()));
    assert_eq!(base(Version::V3).validate(), Ok(()));
    let mut p = base(Version::V3);
    p.advert_int_cs = 4095;
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn validate_refuses() {
    let cases: Vec<(Params, ParamsError)> = vec![
        (
            Params {
                vrid: 0,
                ..base(Version::V2)
            },
            ParamsError::Vrid,
        ),
        (
            Params {
                priority: 0,
                ..base(Version::V2)
            },
            ParamsError::Priority,
        ),
        (
            Params {
                advert_int_cs: 0,
                ..base(Version::V3)
            },
            ParamsError::IntervalZero,
        ),
        (
            Params {
                advert_int_cs: 150,
                ..base(Version::V2)
            },
            ParamsError::IntervalV2(150),
        ),
        (
            Params {
                advert_int_cs: 25_600,
                ..base(Version::V2)
            },
            ParamsError::IntervalV2(25_600),
        ),
        (
            Params {
                advert_int_cs: 4096,
                ..base(Version::V3)
            },
            ParamsError::IntervalV3(4096),
        ),
        (
            Params {
                auth_pass: Some([1; 8]),
                ..base(Version::V3)
            },
            ParamsError::AuthOnV3,
        ),
        (
            Params {
                addresses: vec![],
                ..base(Version::V2)
            },
            ParamsError::NoAddresses,
        ),
        (
            Params {
                addresses: vec![Ipv4Addr::LOCALHOST; 256],
                ..base(Version::V2)
            },
            ParamsError::TooManyAddresses(256),
        ),
    ];
    for (p, e) in cases {
        assert_eq!(p.validate(), Err(e));
    }
}

#[test]
fn sanitized_clamps_what_validate_refuses() {
    let p = Params {
        priority: 0,
        advert_int_cs: 150,
        ..base(Version::V2)
    }
    .sanitized();
    assert_eq!((p.priority, p.advert_int_cs), (1, 100));
    let p = Params {
        advert_int_cs: 50,
        ..base(Version::V2)
    }
    .sanitized();
    assert_eq!(p.advert_int_cs, 100, "v2 never below one second");
    let p = Params {
        advert_int_cs: 0,
        ..base(Version::V3)
    }
    .sanitized();
    assert_eq!(p.advert_int_cs, 1);
    let p = Params {
        advert_int_cs: u16::MAX,
        ..base(Version::V3)
    }
    .sanitized();
    assert_eq!(p.advert_int_cs, 4095);
    let p = Params {
        addresses: vec![Ipv4Addr::LOCALHOST; 300],
        ..base(Version::V2)
    }
    .sanitized();
    assert_eq!(p.addresses.len(), 255);
    // Valid values pass through unchanged.
    assert_eq!(base(Version::V3).sanitized(), base(Version::V3));
}
