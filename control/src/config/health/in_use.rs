//! Which health settings change what a director does. While nothing runs
//! the checks, `ferrovs run` refuses a configuration that has any, so that
//! no real is silently left unchecked.

use crate::config::model::Config;

/// The path of the first setting that needs the checker: a check, the
/// quorum and its scripts, a sorry server or a notify script. Timing
/// options, `alpha`, `omega`, `inhibit_on_failure` and `virtualhost` do
/// nothing without checks and are not reported.
pub fn first_health_setting(cfg: &Config) -> Option<String> {
    for (i, s) in cfg.services.iter().enumerate() {
        let at = |f: &str| format!("services[{i}].{f}");
        let service = [
            ("checks", !s.checks.is_empty()),
            ("quorum", s.quorum.is_some()),
            ("hysteresis", s.hysteresis.is_some()),
            ("quorum_up", s.quorum_up.is_some()),
            ("quorum_down", s.quorum_down.is_some()),
            ("sorry_server", s.sorry_server.is_some()),
            ("sorry_server_inhibit", s.sorry_server_inhibit.is_some()),
        ];
        if let Some((f, _)) = service.iter().find(|(_, set)| *set) {
            return Some(at(f));
        }
        for (j, r) in s.reals.iter().enumerate() {
            let real = [
                ("checks", r.checks.as_ref().is_some_and(|c| !c.is_empty())),
                ("notify_up", r.notify_up.is_some()),
                ("notify_down", r.notify_down.is_some()),
            ];
            if let Some((f, _)) = real.iter().find(|(_, set)| *set) {
                return Some(at(&format!("reals[{j}].{f}")));
            }
        }
    }
    None
}
