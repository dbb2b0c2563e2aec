//! Small pieces the sections of `plot`'s report share.
use serde_json::Value;

/// A number with `d` decimals, or "-" when missing.
pub fn num(v: &Value, d: usize) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.d$}"))
}

/// (mode, its `key`) of each entry of a raw report's `modes` array, for a
/// bar chart (pktloop ipp and ipc).
pub fn mode_bars(report: &Value, key: &str) -> Vec<(String, f64)> {
    report["modes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            (
                m["mode"].as_str().unwrap_or("?").to_string(),
                m[key].as_f64().unwrap_or(0.0),
            )
        })
        .collect()
}
