//! Finds DPDK with pkg-config, generates FFI bindings with bindgen (static-inline
//! functions such as rx/tx burst wrapped via `wrap_static_fns`) and compiles the
//! generated wrappers plus a tiny shim with DPDK's own cflags.
use std::env;
use std::path::PathBuf;

const MIN_DPDK: &str = "22.11";

fn main() {
    println!("cargo:rerun-if-changed=src/dpdk/c/wrapper.h");
    println!("cargo:rerun-if-changed=src/dpdk/c/shim.c");
    println!("cargo:rerun-if-changed=build.rs");

    let dpdk = pkg_config::Config::new()
        .atleast_version(MIN_DPDK)
        .cargo_metadata(true)
        .probe("libdpdk")
        .unwrap_or_else(|e| {
            panic!("libdpdk >= {MIN_DPDK} not found by pkg-config ({e}); install libdpdk-dev (make deps)")
        });

    // rte_vdev_init lives in the vdev bus driver, which libdpdk.pc leaves to plugins.
    println!("cargo:rustc-link-lib=dylib=rte_bus_vdev");

    // DPDK's cflags carry -include rte_config.h and -march; bindgen and cc need both.
    let mut clang_args: Vec<String> = dpdk
        .include_paths
        .iter()
        .map(|p| format!("-I{}", p.display()))
        .collect();
    clang_args.extend([
        "-include".into(),
        "rte_config.h".into(),
        "-march=corei7".into(),
    ]);

    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let wrap_c = out.join("dpdk_static_wrappers.c");
    let bindings = bindgen::Builder::default()
        .header("src/dpdk/c/wrapper.h")
        .clang_args(&clang_args)
        .allowlist_function("rte_eal_(init|cleanup|process_type)")
        .allowlist_function("rte_eth_(dev_count_avail|dev_configure|rx_queue_setup|tx_queue_setup|dev_start|dev_stop|dev_close|rx_burst|tx_burst|macaddr_get|dev_info_get|promiscuous_enable|dev_get_port_by_name|dev_socket_id|stats_get|dev_set_mtu|find_next_owned_by|dev_is_valid_port|link_get_nowait)")
        .allowlist_function("rte_pktmbuf_(pool_create|alloc|free|prepend|adj|append|trim|reset)")
        .allowlist_function("rte_mempool_(avail_count|in_use_count|free)")
        .allowlist_function("rte_(socket_id|lcore_id|thread_register|thread_unregister|strerror)")
        // Host-path twins (TAP PMD, virtio-user) are created at run time.
        .allowlist_function("rte_vdev_(init|uninit)")
        .allowlist_function("ferrovs_rte_errno")
        // rte_flow: steering FullNAT replies to their owner's queue (src/dpdk/flow.rs).
        .allowlist_function("rte_flow_(validate|create|destroy|flush)")
        .allowlist_type("rte_flow_(attr|item|item_type|item_eth|item_ipv4|item_tcp|item_udp|action|action_type|action_queue|error)")
        .allowlist_var("RTE_(MAX_ETHPORTS|PKTMBUF_HEADROOM|MBUF_DEFAULT_BUF_SIZE|ETHER_ADDR_LEN)")
        .opaque_type("rte_arp_hdr")
        .opaque_type("rte_arp_ipv4")
        .opaque_type("rte_l2tpv2_.*")
        .opaque_type("rte_gtp_.*")
        .wrap_static_fns(true)
        .wrap_static_fns_path(out.join("dpdk_static_wrappers"))
        .derive_default(true)
        .layout_tests(false)
        .generate_comments(false)
        .generate()
        .expect("bindgen failed on DPDK headers");
    bindings
        .write_to_file(out.join("dpdk_bindings.rs"))
        .expect("writing dpdk_bindings.rs");

    let mut cc = cc::Build::new();
    cc.file(&wrap_c)
        .file("src/dpdk/c/shim.c")
        .include("src/dpdk/c")
        .include(env::var("CARGO_MANIFEST_DIR").expect("manifest dir"))
        .flag("-include")
        .flag("rte_config.h")
        .flag("-march=corei7")
        .flag("-Wno-unused-parameter")
        .warnings(false);
    for p in &dpdk.include_paths {
        cc.include(p);
    }
    cc.compile("ferrovs_dpdk_shim");
}
