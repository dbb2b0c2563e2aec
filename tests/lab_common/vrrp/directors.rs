//! The two directors of the VRRP lab and their configurations.
use super::*;

/// One of the two directors of the VRRP lab.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// `fvs-lb`: 10.99.0.3/24, 10.99.1.3/24, MAC 02:00:00:00:00:01.
    A,
    /// `fvs-lb2`: 10.99.0.4/24, 10.99.1.4/24, MAC 02:00:00:00:00:02.
    B,
}

impl Side {
    pub fn ns(self) -> &'static str {
        match self {
            Side::A => "lb",
            Side::B => "lb2",
        }
    }
    pub fn mac(self) -> &'static str {
        match self {
            Side::A => "02:00:00:00:00:01",
            Side::B => "02:00:00:00:00:02",
        }
    }
    /// The port's addresses; the first is the instance's primary (advert source).
    pub fn addresses(self) -> [&'static str; 2] {
        match self {
            Side::A => ["10.99.0.3/24", "10.99.1.3/24"],
            Side::B => ["10.99.0.4/24", "10.99.1.4/24"],
        }
    }
    pub fn primary(self) -> &'static str {
        match self {
            Side::A => "10.99.0.3",
            Side::B => "10.99.0.4",
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Side::A => "A",
            Side::B => "B",
        }
    }
}

/// The parameters of one `vrrp:` instance of a director's config.
#[derive(Debug, Clone)]
pub struct Vrrp {
    pub name: String,
    pub vrid: u8,
    pub priority: u8,
    pub version: u8,
    /// Seconds (fractions with version 3).
    pub advert_int: f64,
    pub state: String,
    pub nopreempt: bool,
    pub preempt_delay: f64,
    /// auth_type PASS with this password (v2).
    pub auth_pass: Option<String>,
    pub unicast_src_ip: Option<String>,
    pub unicast_peer: Vec<String>,
    pub v3_checksum_as_v2: bool,
    pub virtual_ipaddress: Vec<String>,
    pub garp_master_repeat: u32,
    pub garp_master_delay: u32,
    pub notify_fifo: Option<PathBuf>,
}

impl Default for Vrrp {
    fn default() -> Vrrp {
        Vrrp {
            name: INSTANCE.to_owned(),
            vrid: VRID,
            priority: 100,
            version: 2,
            advert_int: 1.0,
            state: "BACKUP".to_owned(),
            nopreempt: false,
            preempt_delay: 0.0,
            auth_pass: None,
            unicast_src_ip: None,
            unicast_peer: Vec::new(),
            v3_checksum_as_v2: false,
            virtual_ipaddress: vec![VIP.to_owned(), format!("{GW}/24")],
            garp_master_repeat: 5,
            garp_master_delay: 5,
            notify_fifo: None,
        }
    }
}

impl Vrrp {
    pub fn with_priority(priority: u8) -> Vrrp {
        Vrrp {
            priority,
            ..Vrrp::default()
        }
    }

    pub fn skew(&self) -> f64 {
        skew(self.version, self.priority, self.advert_int)
    }

    pub fn master_down(&self) -> f64 {
        master_down(self.version, self.priority, self.advert_int)
    }

    /// The addresses an advert carries (prefix lengths dropped).
    pub fn advert_addrs(&self) -> Vec<String> {
        self.virtual_ipaddress
            .iter()
            .map(|a| a.split('/').next().unwrap().to_owned())
            .collect()
    }

    /// The top-level `vrrp:` section with this one instance on port eth0.
    pub fn yaml(&self) -> String {
        let mut y = String::from("vrrp:\n");
        let _ = writeln!(y, "  - name: {}", self.name);
        let _ = writeln!(y, "    port: eth0");
        let _ = writeln!(y, "    virtual_router_id: {}", self.vrid);
        let _ = writeln!(y, "    priority: {}", self.priority);
        let _ = writeln!(y, "    advert_int: {}", self.advert_int);
        let _ = writeln!(y, "    version: {}", self.version);
        let _ = writeln!(y, "    state: {}", self.state);
        let _ = writeln!(y, "    nopreempt: {}", self.nopreempt);
        let _ = writeln!(y, "    preempt_delay: {}", self.preempt_delay);
        if let Some(p) = &self.auth_pass {
            let _ = writeln!(
                y,
                "    authentication: {{auth_type: PASS, auth_pass: \"{p}\"}}"
            );
        }
        if let Some(s) = &self.unicast_src_ip {
            let _ = writeln!(y, "    unicast_src_ip: {s}");
        }
        if !self.unicast_peer.is_empty() {
            let _ = writeln!(y, "    unicast_peer: [{}]", self.unicast_peer.join(", "));
        }
        let _ = writeln!(y, "    v3_checksum_as_v2: {}", self.v3_checksum_as_v2);
        let _ = writeln!(
            y,
            "    virtual_ipaddress: [{}]",
            self.virtual_ipaddress.join(", ")
        );
        let _ = writeln!(y, "    garp_master_repeat: {}", self.garp_master_repeat);
        let _ = writeln!(y, "    garp_master_delay: {}", self.garp_master_delay);
        if let Some(f) = &self.notify_fifo {
            let _ = writeln!(y, "    notify_fifo: {}", f.display());
        }
        y
    }
}

/// configs/lab.yaml for one director of the two-director lab: the side's
/// port MAC and addresses, `conn_max: 100000` (two directors share the
/// hugepages), its own control socket, the NAT service on 10.99.0.100:80
/// over the reals (lab.yaml's), and `vrrp`.
pub fn director_config(side: Side, vrrp: &Vrrp) -> LabConfig {
    let addrs = side.addresses();
    director_config_with(&format!("vrrp-lb{}", side.name()), side.mac(), &addrs, vrrp)
}

/// configs/lab.yaml with the port's `mac` and `addresses` replaced (as given:
/// lab.yaml's own for the director-vs-keepalived lab), `conn_max: 100000`
/// and the `vrrp:` section.
pub fn director_config_with(name: &str, mac: &str, addresses: &[&str], vrrp: &Vrrp) -> LabConfig {
    let cfg = director_config_base(name, mac, addresses);
    cfg.edit(|t| format!("{t}\n{}", vrrp.yaml()));
    cfg
}

/// `director_config_with` without the `vrrp:` section (what a director
/// without VRRP accepts: the fixture checks two of them side by side).
pub fn director_config_base(name: &str, mac: &str, addresses: &[&str]) -> LabConfig {
    // A private directory per config, even for two configs of one side.
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let cfg = LabConfig::new(&format!("{name}-{n}"), None);
    cfg.edit(|t| {
        let mac_line = "    mac: \"02:00:00:00:00:01\"\n";
        let addr_line = "    addresses: [10.99.0.1/24, 10.99.1.1/24]\n";
        assert!(
            t.contains(mac_line) && t.contains(addr_line),
            "configs/lab.yaml's port"
        );
        assert!(t.contains("host_iface:"), "VRRP needs the port's twin");
        let t = t
            .replacen(mac_line, &format!("    mac: \"{mac}\"\n"), 1)
            .replacen(
                addr_line,
                &format!("    addresses: [{}]\n", addresses.join(", ")),
                1,
            );
        format!("{t}\nconn_max: 100000\n")
    });
    cfg
}
