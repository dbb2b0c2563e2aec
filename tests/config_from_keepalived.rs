//! `ferrovs config from-keepalived`: golden YAML for the users' tutorial,
//! DPVS's FullNAT tutorial, keepalived's own sample files, a VRRP setup
//! and a sync daemon; every output
//! passes `ferrovs config check`; every keyword not mapped is reported
//! with its file and line; `--strict` writes nothing.
//!
//! `UPDATE_GOLDEN=1 cargo test --test config_from_keepalived` rewrites the
//! golden files (review the diff).
mod common;
use std::process::{Command, Output};

use common::*;

const DIR: &str = "tests/keepalived";

fn from_keepalived(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .current_dir(repo())
        .args(["config", "from-keepalived"])
        .args(args)
        .output()
        .expect("running ferrovs config from-keepalived")
}

/// Maps `tests/keepalived/NAME` with the test base, compares the YAML with
/// `NAME.yaml`, runs `config check` on it and returns stderr's lines.
fn golden(name: &str) -> Vec<String> {
    let input = format!("{DIR}/{name}");
    let o = from_keepalived(&[&input, "--base", &format!("{DIR}/base.yaml")]);
    let stderr = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{stderr}");
    let yaml = String::from_utf8(o.stdout).unwrap();
    let golden = repo().join(format!("{DIR}/{name}.yaml"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&golden, &yaml).unwrap();
    }
    let want = std::fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(
        yaml,
        want,
        "{name}: output differs from {}",
        golden.display()
    );

    let dir = tempdir();
    let out = dir.join("out.yaml");
    std::fs::write(&out, &yaml).unwrap();
    let check = Command::new(env!("CARGO_BIN_EXE_ferrovs"))
        .args(["config", "check"])
        .arg(&out)
        .output()
        .unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        check.status.success(),
        "{name}: config check refused the output: {}",
        String::from_utf8_lossy(&check.stderr)
    );
    stderr.lines().map(str::to_string).collect()
}

fn lines(name: &str, expected: &[&str]) -> Vec<String> {
    expected
        .iter()
        .map(|l| format!("{DIR}/{name}:{l}"))
        .collect()
}

#[test]
fn the_users_tutorial() {
    assert_eq!(
        golden("tutorial.conf"),
        lines(
            "tutorial.conf",
            &[
                "4: interface: ens32 mapped as port \"eth0\" (the base's only port)",
                "13: 192.168.184.100/24: mapped without \"dev ens32 label ens32:3\" (the address is held on the instance's port)",
                "21: nat_mask: not mapped (not a keepalived virtual_server keyword; keepalived ignores it)",
            ]
        )
    );
}

#[test]
fn dpvs_fullnat_tutorial_with_an_include() {
    assert_eq!(
        golden("dpvs-fullnat.conf"),
        lines(
            "dpvs-fullnat.conf",
            &[
                "5: router_id: not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)",
                "12: interface: dpdk0.kni mapped as port \"eth0\" (the base's only port)",
                "13: dpdk_interface: not mapped (DPVS extension with no ferrovs equivalent)",
                "32: syn_proxy: not mapped (DPVS extension with no ferrovs equivalent)",
                "38: nb_sock_retry: not mapped (not a TCP_CHECK keyword; keepalived ignores it)",
            ]
        )
    );
}

#[test]
fn keepalived_sample_http_get_port() {
    let global = "not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)";
    let name = "keepalived.conf.HTTP_GET.port";
    assert_eq!(
        golden(name),
        lines(
            name,
            &[
                &format!("4: notification_email: {global}"),
                &format!("7: notification_email_from: {global}"),
                &format!("8: smtp_server: {global}"),
                &format!("9: smtp_connect_timeout: {global}"),
                &format!("10: router_id: {global}"),
            ]
        )
    );
}

#[test]
fn keepalived_sample_misc_check() {
    let global = "not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)";
    let name = "keepalived.conf.misc_check";
    assert_eq!(
        golden(name),
        lines(
            name,
            &[
                &format!("5: notification_email: {global}"),
                &format!("8: notification_email_from: {global}"),
                &format!("9: smtp_server: {global}"),
                &format!("10: smtp_connect_timeout: {global}"),
                &format!("11: router_id: {global}"),
            ]
        )
    );
}

#[test]
fn keepalived_sample_fwmark() {
    let name = "keepalived.conf.fwmark";
    assert_eq!(
        golden(name),
        lines(
            name,
            &[
                "4: router_id: not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)",
                "12: protocol: not mapped (a firewall-mark service takes every protocol; keepalived ignores it)",
            ]
        )
    );
}

#[test]
fn vrrp_instances_and_ha_suspend() {
    let name = "keepalived.conf.vrrp";
    assert_eq!(
        golden(name),
        lines(
            name,
            &[
                "6: router_id: not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)",
                "10: vrrp_script: not mapped (tracking is not supported: the instances' priorities stay as written)",
                "26: 172.16.0.80/24: mapped without \"dev eth0 label eth0:web\" (the address is held on the instance's port)",
                "29: track_script: not mapped (tracking is not supported: the instance's priority stays as written)",
                "34: smtp_alert: not mapped (ferrovs sends no mail; transitions are logged)",
            ]
        )
    );
}

#[test]
fn sync_daemon_following_a_vrrp_instance() {
    let name = "keepalived.conf.sync";
    assert_eq!(
        golden(name),
        lines(
            name,
            &["6: router_id: not mapped (global_defs: only lvs_timeouts, lvs_sync_daemon and the vrrp defaults have a ferrovs equivalent)"]
        )
    );
    let yaml = std::fs::read_to_string(repo().join(format!("{DIR}/{name}.yaml"))).unwrap();
    assert!(
        yaml.contains("sync:\n  interface: eth0\n  instance: VI_1\n  syncid: 51\n"),
        "{yaml}"
    );
}

#[test]
fn keepalived_sample_quorum() {
    assert_eq!(golden("keepalived.conf.quorum"), Vec::<String>::new());
}

#[test]
fn strict_turns_any_unmapped_keyword_into_an_error_and_writes_nothing() {
    let o = from_keepalived(&[
        &format!("{DIR}/tutorial.conf"),
        "--base",
        &format!("{DIR}/base.yaml"),
        "--strict",
    ]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    assert!(o.stdout.is_empty());
    assert!(stderr.contains(&format!("{DIR}/tutorial.conf:21: nat_mask: not mapped")));
    assert!(
        stderr.contains("--strict: 3 keyword(s) not mapped as written; nothing written"),
        "{stderr}"
    );
    // A file with nothing unmapped passes --strict.
    let o = from_keepalived(&[
        &format!("{DIR}/keepalived.conf.quorum"),
        "--base",
        &format!("{DIR}/base.yaml"),
        "--strict",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn without_base_only_the_mapped_sections_are_written() {
    let o = from_keepalived(&[&format!("{DIR}/tutorial.conf")]);
    assert!(o.status.success());
    let yaml = String::from_utf8(o.stdout).unwrap();
    assert!(yaml.starts_with("services:\n"), "{yaml}");
    assert!(
        !yaml.contains("workers:") && !yaml.contains("timeouts:"),
        "{yaml}"
    );
    // -o writes the same text to a file.
    let dir = tempdir();
    let out = dir.join("services.yaml");
    let o = from_keepalived(&[&format!("{DIR}/tutorial.conf"), "-o", out.to_str().unwrap()]);
    assert!(o.status.success() && o.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&out).unwrap(), yaml);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn broken_files_are_refused_with_file_and_line() {
    let dir = tempdir();
    let cases = [
        (
            "open.conf",
            "virtual_server 10.1.0.1 80 {\n  protocol TCP\n  real_server 10.2.0.1 80 {\n    weight 1\n}\n",
            "open.conf:1: '{' is never closed",
        ),
        (
            "close.conf",
            "}\n",
            "close.conf:1: '}' with no '{' to close",
        ),
        (
            "quote.conf",
            "virtual_server 10.1.0.1 80 {\n  quorum_up \"/bin/up\n}\n",
            "quote.conf:2: unmatched quote",
        ),
        (
            "loop.conf",
            "include loop.conf\n",
            "loop.conf:1: include nested deeper than 16 files",
        ),
        (
            "invalid.conf",
            "virtual_server 10.1.0.1 80 {\n  protocol TCP\n  real_server 10.1.0.1 80\n}\n",
            "invalid.conf:1: virtual_server: services[0].reals[0].address: 10.1.0.1 is a VIP (services[0].vip)",
        ),
    ];
    for (name, text, want) in cases {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        let o = from_keepalived(&[path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{name} accepted");
        assert!(o.stdout.is_empty());
        assert!(stderr.contains(want), "{name}: {stderr}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
