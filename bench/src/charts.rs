//! The SVG charts of `plot` (bench/results/*.svg), drawn with plotters.
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use serde_json::Value;

/// Value labels: centred above their bar.
fn label_style() -> TextStyle<'static> {
    TextStyle::from(("sans-serif", 12).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom))
}

/// A labelled bar chart with an optional horizontal reference line.
pub fn bar_chart(
    path: &Path,
    title: &str,
    y_desc: &str,
    bars: &[(String, f64)],
    hline: Option<(f64, &str)>,
    fmt: &str,
) -> Result<()> {
    if bars.is_empty() {
        return Ok(());
    }
    let n = bars.len();
    let width = (120 + 70 * n as u32).max(640);
    let root = SVGBackend::new(path, (width, 460)).into_drawing_area();
    root.fill(&WHITE)?;
    let max = bars
        .iter()
        .map(|b| b.1)
        .chain(hline.map(|h| h.0))
        .fold(0.0f64, f64::max)
        .max(1e-9)
        * 1.18;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(70)
        .y_label_area_size(70)
        .build_cartesian_2d((0..n).into_segmented(), 0f64..max)?;
    let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n)
        .x_label_style(("sans-serif", 12))
        .x_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .y_desc(y_desc)
        .draw()?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        let mut r = Rectangle::new(
            [
                (SegmentValue::Exact(i), 0.0),
                (SegmentValue::Exact(i + 1), *v),
            ],
            Palette99::pick(i % 9).filled(),
        );
        r.set_margin(0, 0, 6, 6);
        r
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
        let text = match fmt {
            "{:.2}" => format!("{v:.2}"),
            _ => format!("{v:.0}"),
        };
        Text::new(
            text,
            (SegmentValue::CenterOf(i), *v + max * 0.02),
            label_style(),
        )
    }))?;
    if let Some((y, label)) = hline {
        chart
            .draw_series(LineSeries::new(
                [(SegmentValue::Exact(0), y), (SegmentValue::Exact(n), y)],
                RED.stroke_width(2),
            ))?
            .label(label)
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// Six panels: new connections/s, keep-alive requests/s, keep-alive p50 and
/// p99 (bar: the median over rounds; dots: each round), bulk throughput, and
/// issue 16's verdict (ferrovs p99 <= HAProxy p99).
pub fn peers_chart(path: &Path, rows: &[Value], verdict: &Value) -> Result<()> {
    let root = SVGBackend::new(path, (1500, 760)).into_drawing_area();
    root.fill(&WHITE)?;
    let root = root.titled(
        "Lab peers: one core each, same real servers, same wrk load",
        ("sans-serif", 20),
    )?;
    let panels = root.split_evenly((2, 3));
    // (row key, per-round key, title)
    let metrics = [
        (
            "new_conns_per_s",
            None,
            "new connections / s (higher is better)",
        ),
        (
            "keepalive_req_per_s",
            Some("req_per_s"),
            "keep-alive requests / s, median (higher is better)",
        ),
        (
            "keepalive_p50_ms",
            Some("p50_ms"),
            "keep-alive p50 ms, median; dots: rounds (lower is better)",
        ),
        (
            "keepalive_p99_ms",
            Some("p99_ms"),
            "keep-alive p99 ms, median; dots: rounds (lower is better)",
        ),
        (
            "bulk_gbit_per_s",
            None,
            "bulk 10 MB objects, Gbit/s (higher is better)",
        ),
    ];
    for (area, (key, round_key, title)) in panels.iter().zip(metrics) {
        let bars: Vec<(String, f64)> = rows
            .iter()
            .map(|r| {
                (
                    r["lb"].as_str().unwrap_or("?").to_string(),
                    r[key].as_f64().unwrap_or(0.0),
                )
            })
            .collect();
        // (bar index, value) of every round.
        let dots: Vec<(usize, f64)> = round_key
            .map(|k| {
                rows.iter()
                    .enumerate()
                    .flat_map(|(i, r)| {
                        r["keepalive_rounds"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(move |x| x[k].as_f64().map(|v| (i, v)))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let n = bars.len();
        let max = bars
            .iter()
            .map(|b| b.1)
            .chain(dots.iter().map(|d| d.1))
            .fold(0.0f64, f64::max)
            .max(1e-9)
            * 1.2;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 14))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d((0..n).into_segmented(), 0f64..max)?;
        let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let mut r = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), *v),
                ],
                Palette99::pick(i).filled(),
            );
            r.set_margin(0, 0, 20, 20);
            r
        }))?;
        chart.draw_series(
            dots.iter()
                .map(|(i, v)| Circle::new((SegmentValue::CenterOf(*i), *v), 3, BLACK.filled())),
        )?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, v))| {
            let t = if *v >= 100.0 {
                format!("{v:.0}")
            } else {
                format!("{v:.2}")
            };
            // Above the bar and above its rounds' dots.
            let top = dots
                .iter()
                .filter(|d| d.0 == i)
                .map(|d| d.1)
                .fold(*v, f64::max);
            Text::new(
                t,
                (SegmentValue::CenterOf(i), top + max * 0.02),
                label_style(),
            )
        }))?;
    }
    if let Some(area) = panels.get(5) {
        let f = |k: &str| {
            verdict[k]
                .as_f64()
                .map_or("-".into(), |x| format!("{x:.2} ms"))
        };
        let holds = match verdict["holds"].as_bool() {
            Some(true) => "holds",
            Some(false) => "does not hold",
            None => "not measured",
        };
        let style = TextStyle::from(("sans-serif", 16).into_font());
        for (k, line) in [
            "Target: ferrovs keep-alive p99 <= HAProxy p99".to_string(),
            format!(
                "ferrovs median p99: {} ({} rounds)",
                f("ferrovs_p99_ms"),
                verdict["ferrovs_rounds"].as_u64().unwrap_or(0)
            ),
            format!(
                "HAProxy median p99: {} ({} rounds)",
                f("haproxy_p99_ms"),
                verdict["haproxy_rounds"].as_u64().unwrap_or(0)
            ),
            format!("Verdict: {holds}"),
        ]
        .iter()
        .enumerate()
        {
            area.draw(&Text::new(
                line.as_str(),
                (30, 80 + 30 * k as i32),
                style.clone(),
            ))?;
        }
    }
    root.present()?;
    Ok(())
}
