//! A popt-like reader of the command line: long options (`--name`,
//! `--name=value`), bundled short options (`-Ln`), attached or separate
//! arguments (`-w5`, `-w 5`), optional arguments (`-p [timeout]`, taken
//! only when the next word does not start with `-`), and leftover words.

/// Every option fvsadm knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opt {
    // Commands.
    AddService,
    EditService,
    DeleteService,
    Clear,
    List,
    Zero,
    AddServer,
    EditServer,
    DeleteServer,
    Set,
    Help,
    Version,
    Restore,
    Save,
    StartDaemon,
    StopDaemon,
    AddLaddr,
    DelLaddr,
    GetLaddr,
    Reload,
    // Options.
    Tcp,
    Udp,
    Sctp,
    Fwmark,
    Scheduler,
    Persistent,
    Netmask,
    RealServer,
    Masquerading,
    Ipip,
    Gatewaying,
    FullNat,
    Weight,
    UThreshold,
    LThreshold,
    Numeric,
    Connection,
    Timeout,
    Daemon,
    Health,
    Vrrp,
    Stats,
    Rate,
    Thresholds,
    PersistentConn,
    NoSort,
    Sort,
    Exact,
    Ipv6,
    Ops,
    Pe,
    SchedFlags,
    TunType,
    TunPort,
    TunNocsum,
    TunCsum,
    TunRemcsum,
    TunInfo,
    Laddr,
    McastInterface,
    Syncid,
    McastGroup,
    McastPort,
    McastTtl,
    SyncMaxlen,
}

/// Whether an option takes an argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arg {
    None,
    Required,
    Optional,
}

struct Spec {
    long: &'static str,
    short: Option<char>,
    arg: Arg,
    opt: Opt,
}

const fn spec(long: &'static str, short: Option<char>, arg: Arg, opt: Opt) -> Spec {
    Spec {
        long,
        short,
        arg,
        opt,
    }
}

use Arg::{None as N, Optional as O, Required as R};

static SPECS: &[Spec] = &[
    spec("add-service", Some('A'), N, Opt::AddService),
    spec("edit-service", Some('E'), N, Opt::EditService),
    spec("delete-service", Some('D'), N, Opt::DeleteService),
    spec("clear", Some('C'), N, Opt::Clear),
    spec("list", Some('L'), N, Opt::List),
    spec("list", Some('l'), N, Opt::List),
    spec("zero", Some('Z'), N, Opt::Zero),
    spec("add-server", Some('a'), N, Opt::AddServer),
    spec("edit-server", Some('e'), N, Opt::EditServer),
    spec("delete-server", Some('d'), N, Opt::DeleteServer),
    spec("set", None, N, Opt::Set),
    spec("help", Some('h'), N, Opt::Help),
    spec("version", Some('v'), N, Opt::Version),
    spec("restore", Some('R'), N, Opt::Restore),
    spec("save", Some('S'), N, Opt::Save),
    spec("start-daemon", None, R, Opt::StartDaemon),
    spec("stop-daemon", None, R, Opt::StopDaemon),
    spec("add-laddr", Some('P'), N, Opt::AddLaddr),
    spec("del-laddr", Some('Q'), N, Opt::DelLaddr),
    spec("get-laddr", Some('G'), N, Opt::GetLaddr),
    spec("reload", None, N, Opt::Reload),
    spec("tcp-service", Some('t'), R, Opt::Tcp),
    spec("udp-service", Some('u'), R, Opt::Udp),
    spec("sctp-service", None, R, Opt::Sctp),
    spec("fwmark-service", Some('f'), R, Opt::Fwmark),
    spec("scheduler", Some('s'), R, Opt::Scheduler),
    spec("persistent", Some('p'), O, Opt::Persistent),
    spec("netmask", Some('M'), R, Opt::Netmask),
    spec("real-server", Some('r'), R, Opt::RealServer),
    spec("masquerading", Some('m'), N, Opt::Masquerading),
    spec("ipip", Some('i'), N, Opt::Ipip),
    spec("gatewaying", Some('g'), N, Opt::Gatewaying),
    spec("fullnat", Some('j'), N, Opt::FullNat),
    spec("weight", Some('w'), R, Opt::Weight),
    spec("u-threshold", Some('x'), R, Opt::UThreshold),
    spec("l-threshold", Some('y'), R, Opt::LThreshold),
    spec("numeric", Some('n'), N, Opt::Numeric),
    spec("connection", Some('c'), N, Opt::Connection),
    spec("mcast-interface", None, R, Opt::McastInterface),
    spec("syncid", None, R, Opt::Syncid),
    spec("timeout", None, N, Opt::Timeout),
    spec("daemon", None, N, Opt::Daemon),
    spec("health", None, N, Opt::Health),
    spec("vrrp", None, N, Opt::Vrrp),
    spec("stats", None, N, Opt::Stats),
    spec("rate", None, N, Opt::Rate),
    spec("thresholds", None, N, Opt::Thresholds),
    spec("persistent-conn", None, N, Opt::PersistentConn),
    spec("nosort", None, N, Opt::NoSort),
    spec("sort", None, N, Opt::Sort),
    spec("exact", Some('X'), N, Opt::Exact),
    spec("ipv6", Some('6'), N, Opt::Ipv6),
    spec("ops", Some('o'), N, Opt::Ops),
    spec("pe", None, R, Opt::Pe),
    spec("sched-flags", Some('b'), R, Opt::SchedFlags),
    spec("mcast-group", None, R, Opt::McastGroup),
    spec("mcast-port", None, R, Opt::McastPort),
    spec("mcast-ttl", None, R, Opt::McastTtl),
    spec("sync-maxlen", None, R, Opt::SyncMaxlen),
    spec("tun-info", None, N, Opt::TunInfo),
    spec("tun-type", None, R, Opt::TunType),
    spec("tun-port", None, R, Opt::TunPort),
    spec("tun-nocsum", None, N, Opt::TunNocsum),
    spec("tun-csum", None, N, Opt::TunCsum),
    spec("tun-remcsum", None, N, Opt::TunRemcsum),
    spec("laddr", Some('z'), R, Opt::Laddr),
];

/// A command-line word that could not be read as an option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadOption {
    /// The word as typed.
    pub word: String,
    /// popt's wording: "unknown option" or "missing argument".
    pub reason: &'static str,
}

/// One option read from the command line, with the word it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub opt: Opt,
    pub arg: Option<String>,
    pub word: String,
    /// The last word read for this option: its argument when that was
    /// the next word, else `word` (popt's `poptBadOption`).
    pub last: String,
}

/// Reads options in order; leftover words are collected in `leftovers`.
pub struct Reader<'a> {
    args: &'a [String],
    pos: usize,
    /// Remaining short options of a bundle (`-Ln` after `L`).
    bundle: Option<(String, usize)>,
    only_leftovers: bool,
    pub leftovers: Vec<String>,
}

impl<'a> Reader<'a> {
    /// `args` without the program name.
    pub fn new(args: &'a [String]) -> Reader<'a> {
        Reader {
            args,
            pos: 0,
            bundle: None,
            only_leftovers: false,
            leftovers: Vec::new(),
        }
    }

    fn take_next(&mut self) -> Option<String> {
        let a = self.args.get(self.pos)?.clone();
        self.pos += 1;
        Some(a)
    }

    fn peek_value(&self) -> Option<&String> {
        self.args.get(self.pos).filter(|a| !a.starts_with('-'))
    }

    fn short(&mut self, word: String, at: usize) -> Option<Result<Item, BadOption>> {
        let c = word[at..].chars().next()?;
        let next = at + c.len_utf8();
        let bad = |reason| {
            Some(Err(BadOption {
                word: word.clone(),
                reason,
            }))
        };
        let Some(s) = SPECS.iter().find(|s| s.short == Some(c)) else {
            return bad("unknown option");
        };
        let rest = &word[next..];
        let mut last = word.clone();
        let arg = match s.arg {
            Arg::None => {
                if !rest.is_empty() {
                    self.bundle = Some((word.clone(), next));
                }
                None
            }
            Arg::Required if !rest.is_empty() => Some(rest.to_string()),
            Arg::Required => match self.take_next() {
                Some(v) => {
                    last = v.clone();
                    Some(v)
                }
                None => return bad("missing argument"),
            },
            Arg::Optional if !rest.is_empty() => Some(rest.to_string()),
            Arg::Optional => match self.peek_value().cloned() {
                Some(v) => {
                    self.pos += 1;
                    last = v.clone();
                    Some(v)
                }
                None => None,
            },
        };
        Some(Ok(Item {
            opt: s.opt,
            arg,
            word,
            last,
        }))
    }

    fn long(&mut self, word: String) -> Result<Item, BadOption> {
        let body = &word[2..];
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let bad = |reason| BadOption {
            word: word.clone(),
            reason,
        };
        let Some(s) = SPECS.iter().find(|s| s.long == name) else {
            return Err(bad("unknown option"));
        };
        let separate = matches!((s.arg, &inline), (Arg::Required | Arg::Optional, None));
        let arg = match (s.arg, inline) {
            (Arg::None, Some(_)) => return Err(bad("option does not take an argument")),
            (Arg::None, None) => None,
            (_, Some(v)) => Some(v),
            (Arg::Required, None) => Some(self.take_next().ok_or_else(|| bad("missing argument"))?),
            (Arg::Optional, None) => match self.peek_value().cloned() {
                Some(v) => {
                    self.pos += 1;
                    Some(v)
                }
                None => None,
            },
        };
        let last = match (&arg, separate) {
            (Some(v), true) => v.clone(),
            _ => word.clone(),
        };
        Ok(Item {
            opt: s.opt,
            arg,
            word,
            last,
        })
    }
}

impl Iterator for Reader<'_> {
    type Item = Result<Item, BadOption>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some((word, at)) = self.bundle.take() {
            return self.short(word, at);
        }
        loop {
            let word = self.take_next()?;
            if self.only_leftovers || word == "-" || !word.starts_with('-') {
                self.leftovers.push(word);
                continue;
            }
            if word == "--" {
                self.only_leftovers = true;
                continue;
            }
            if word.starts_with("--") {
                return Some(self.long(word));
            }
            return self.short(word, 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Read = Result<(Opt, Option<String>), BadOption>;

    fn read(words: &[&str]) -> (Vec<Read>, Vec<String>) {
        let args: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        let mut r = Reader::new(&args);
        let items: Vec<_> = r.by_ref().map(|i| i.map(|i| (i.opt, i.arg))).collect();
        (items, r.leftovers)
    }

    #[test]
    fn bundles_and_arguments() {
        let (items, left) = read(&["-Ln", "-w5", "-t", "1.2.3.4:80", "--weight=7", "x"]);
        assert_eq!(
            items,
            vec![
                Ok((Opt::List, None)),
                Ok((Opt::Numeric, None)),
                Ok((Opt::Weight, Some("5".into()))),
                Ok((Opt::Tcp, Some("1.2.3.4:80".into()))),
                Ok((Opt::Weight, Some("7".into()))),
            ]
        );
        assert_eq!(left, vec!["x".to_string()]);
    }

    #[test]
    fn optional_argument() {
        let (items, _) = read(&["-p", "-M", "255.0.0.0", "-p", "60", "--persistent"]);
        assert_eq!(items[0], Ok((Opt::Persistent, None)));
        assert_eq!(items[2], Ok((Opt::Persistent, Some("60".into()))));
        assert_eq!(items[3], Ok((Opt::Persistent, None)));
    }

    #[test]
    fn errors() {
        let (items, _) = read(&["-q"]);
        assert_eq!(
            items[0],
            Err(BadOption {
                word: "-q".into(),
                reason: "unknown option"
            })
        );
        let (items, _) = read(&["-A", "-t"]);
        assert_eq!(
            items[1],
            Err(BadOption {
                word: "-t".into(),
                reason: "missing argument"
            })
        );
        let (items, _) = read(&["--bogus"]);
        assert!(items[0].is_err());
        let (_, left) = read(&["--set", "--", "-1", "2"]);
        assert_eq!(left, vec!["-1".to_string(), "2".to_string()]);
    }
}
