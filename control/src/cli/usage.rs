//! `fvsadm -h` and `fvsadm -v`.

/// The ipvsadm whose interface fvsadm follows, as its `-v` names itself.
pub const IPVSADM_VERSION: &str = "ipvsadm v1.31 2019/12/24 (compiled with popt and IPVS v1.2.1)";

/// The version line: ipvsadm's, after the ferrovs release that speaks it.
pub fn version() -> String {
    format!(
        "fvsadm (ferrovs {}) follows {IPVSADM_VERSION}\n",
        env!("CARGO_PKG_VERSION")
    )
}

/// The help text.
pub fn usage(program: &str) -> String {
    let p = program;
    let mut s = version();
    s.push_str(&format!(
        "Usage:
  {p} -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [-o] [-b sched-flags]
  {p} -D virtual-service
  {p} -C
  {p} -R
  {p} -S [-n]
  {p} -a|e virtual-service -r server-address [options]
  {p} -d virtual-service -r server-address
  {p} -L|l [virtual-service] [options]
  {p} -Z [virtual-service]
  {p} --set tcp tcpfin udp
  {p} --start-daemon {{master|backup}} [daemon-options]
  {p} --stop-daemon {{master|backup}}
  {p} -P|Q virtual-service -z local-address
  {p} -G [virtual-service]
  {p} --reload
  {p} -h

"
    ));
    s.push_str(
        "Commands:
Either long or short options are allowed.
  --add-service     -A        add virtual service with options
  --edit-service    -E        edit virtual service with options
  --delete-service  -D        delete virtual service
  --clear           -C        clear the whole table
  --restore         -R        restore rules from stdin
  --save            -S        save rules to stdout
  --add-server      -a        add real server with options
  --edit-server     -e        edit real server with options
  --delete-server   -d        delete real server
  --list            -L|-l     list the table
  --zero            -Z        zero counters in a service or all services
  --set tcp tcpfin udp        set connection timeout values
  --start-daemon              start connection sync daemon
  --stop-daemon               stop connection sync daemon
  --add-laddr       -P        add a FullNAT local address to a service
  --del-laddr       -Q        delete a FullNAT local address of a service
  --get-laddr       -G        list FullNAT local addresses
  --reload                    make the daemon re-read its configuration file
  --help            -h        display this help message

virtual-service:
  --tcp-service|-t  service-address   service-address is host[:port]
  --udp-service|-u  service-address   service-address is host[:port]
  --fwmark-service|-f fwmark          fwmark is an integer greater than zero
                                      (packets marked by the config's marks: rules)

Options:
  --scheduler    -s scheduler         one of rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh|twos,
                                      the default scheduler is wlc.
  --persistent   -p [timeout]         persistent service (default timeout 360)
  --netmask      -M netmask           persistent granularity mask
  --real-server  -r server-address    server-address is host (and port)
  --gatewaying   -g                   gatewaying (direct routing) (default)
  --ipip         -i                   ipip encapsulation (tunneling)
  --masquerading -m                   masquerading (NAT)
  --tun-type      type                one of ipip|gue|gre,
                                      the default tunnel type is ipip.
  --tun-port      port                tunnel destination port
  --tun-nocsum                        tunnel encapsulation without checksum
  --tun-csum                          tunnel encapsulation with checksum
  --tun-remcsum                       tunnel encapsulation with remote checksum
  --fullnat      -j                   full NAT (source rewritten to a local address)
  --laddr        -z local-address     FullNAT local address (with -P, -Q)
  --weight       -w weight            capacity of real server
  --u-threshold  -x uthreshold        upper threshold of connections
  --l-threshold  -y lthreshold        lower threshold of connections
  --connection   -c                   output of current IPVS connections
  --timeout                           output of timeout (tcp tcpfin udp)
  --daemon                            output of daemon information
  --stats                             output of statistics information
  --rate                              output of rate information
  --exact                             expand numbers (display exact values)
  --thresholds                        output of thresholds information
  --persistent-conn                   output of persistent connection info
  --tun-info                          output of tunnel information
  --nosort                            disable sorting output of service/server entries
  --sort                              does nothing, for backwards compatibility
  --ops          -o                   one-packet scheduling
  --numeric      -n                   numeric output of addresses and ports
  --sched-flags  -b flags             scheduler flags (comma-separated)
  --socket       path                 control socket (default $FERROVS_SOCKET or
                                      /run/ferrovs/ferrovs.sock)
Daemon Options:
  --syncid sid                        syncid for connection sync (default=0)
  --sync-maxlen length                Max sync message length (default=1472)
  --mcast-interface interface         multicast interface for connection sync: a port
                                      of the config (default=eth0)
  --mcast-group address               IPv4 group (default=224.0.0.81)
  --mcast-port port                   UDP port (default=8848)
  --mcast-ttl ttl                     Multicast TTL (default=1)
",
    );
    s
}
