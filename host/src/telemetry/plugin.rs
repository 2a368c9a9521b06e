//! Plugins' own metrics (interface 1.4, `metric_record`): named `openhost_plugin_<name>`, labelled with the
//! plugin's name, recorded by the host's recorder. Names and labels are checked, so that a plugin cannot break the
//! exposition format or pass as the host, and each plugin may make at most [`MAX_SERIES`] series, so that a label
//! fed from requests cannot grow the host's memory without bound.

use std::{
    collections::HashSet,
    hash::{DefaultHasher, Hash, Hasher},
    sync::Mutex,
};

use openhost_plugin_api::{MetricKind, MetricLabel};

/// Series (name and label values) one plugin may create.
pub const MAX_SERIES: usize = 1000;
const MAX_LABELS: usize = 8;
const MAX_NAME_LEN: usize = 100;
const MAX_LABEL_VALUE_LEN: usize = 128;

/// Why a plugin's sample was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MetricError {
    #[error("metric name `{0}` is not [a-z_][a-z0-9_]* of at most 100 characters")]
    Name(String),
    #[error("label name `{0}` is not [a-z_][a-z0-9_]* (and not `plugin`, which the host sets)")]
    LabelName(String),
    #[error("the value of label `{0}` is over 128 characters")]
    LabelValue(String),
    #[error("a sample may have at most 8 labels")]
    TooManyLabels,
    #[error("a counter only goes up: {0} is not a finite increment >= 0")]
    Increment(f64),
    #[error("{0} is not a finite number")]
    NotFinite(f64),
    #[error("this plugin already has {MAX_SERIES} metric series: no more are made")]
    TooManySeries,
}

fn is_identifier(text: &str) -> bool {
    let mut bytes = text.bytes();
    bytes
        .next()
        .is_some_and(|first| first.is_ascii_lowercase() || first == b'_')
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// One plugin's metrics.
pub struct PluginMetrics {
    plugin: String,
    enabled: bool,
    /// Hashes of the series made so far.
    series: Mutex<HashSet<u64>>,
}

impl PluginMetrics {
    pub fn new(plugin: &str, enabled: bool) -> PluginMetrics {
        PluginMetrics {
            plugin: plugin.to_owned(),
            enabled,
            series: Mutex::new(HashSet::new()),
        }
    }

    /// Checks and records one sample.
    pub fn record(
        &self,
        kind: MetricKind,
        name: &str,
        labels: &[MetricLabel<'_>],
        value: f64,
    ) -> Result<(), MetricError> {
        if name.len() > MAX_NAME_LEN || !is_identifier(name) {
            return Err(MetricError::Name(name.to_owned()));
        }
        if labels.len() > MAX_LABELS {
            return Err(MetricError::TooManyLabels);
        }
        for label in labels {
            if !is_identifier(label.name.as_str()) || label.name.as_str() == "plugin" {
                return Err(MetricError::LabelName(label.name.to_string()));
            }
            if label.value.len() > MAX_LABEL_VALUE_LEN {
                return Err(MetricError::LabelValue(label.name.to_string()));
            }
        }
        match kind {
            MetricKind::Counter if !(value.is_finite() && value >= 0.0) => return Err(MetricError::Increment(value)),
            _ if !value.is_finite() => return Err(MetricError::NotFinite(value)),
            _ => {}
        }
        if !self.enabled {
            return Ok(());
        }
        let mut hasher = DefaultHasher::new();
        name.hash(&mut hasher);
        for label in labels {
            (label.name.as_str(), label.value.as_str()).hash(&mut hasher);
        }
        {
            let mut series = self.series.lock().unwrap_or_else(|p| p.into_inner());
            if !series.contains(&hasher.finish()) {
                if series.len() >= MAX_SERIES {
                    return Err(MetricError::TooManySeries);
                }
                series.insert(hasher.finish());
            }
        }
        let name = format!("openhost_plugin_{name}");
        let mut all = vec![metrics::Label::new("plugin", self.plugin.clone())];
        all.extend(
            labels
                .iter()
                .map(|label| metrics::Label::new(label.name.to_string(), label.value.to_string())),
        );
        match kind {
            MetricKind::Counter => metrics::counter!(name, all).increment(value as u64),
            MetricKind::Gauge => metrics::gauge!(name, all).set(value),
            MetricKind::Histogram => metrics::histogram!(name, all).record(value),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label<'a>(name: &'a str, value: &'a str) -> MetricLabel<'a> {
        MetricLabel {
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn names_labels_and_values_are_checked() {
        let metrics = PluginMetrics::new("p", false);
        let record = |name: &str, labels: &[MetricLabel<'_>], value: f64| {
            metrics.record(MetricKind::Counter, name, labels, value)
        };
        assert_eq!(record("refreshes_total", &[label("outcome", "ok")], 1.0), Ok(()));
        assert!(matches!(record("Bad-Name", &[], 1.0), Err(MetricError::Name(_))));
        assert!(matches!(
            record("x", &[label("plugin", "other")], 1.0),
            Err(MetricError::LabelName(_))
        ));
        assert!(matches!(
            record("x", &[label("a b", "v")], 1.0),
            Err(MetricError::LabelName(_))
        ));
        assert!(matches!(
            record("x", &[label("a", &"v".repeat(129))], 1.0),
            Err(MetricError::LabelValue(_))
        ));
        assert_eq!(record("x", &[], -1.0), Err(MetricError::Increment(-1.0)));
        assert_eq!(
            metrics
                .record(MetricKind::Gauge, "x", &[], f64::NAN)
                .map_err(|e| e.to_string()),
            Err("NaN is not a finite number".to_owned())
        );
    }

    #[test]
    fn a_plugin_makes_at_most_max_series() {
        let metrics = PluginMetrics::new("p", true);
        for n in 0..MAX_SERIES {
            let value = n.to_string();
            metrics
                .record(MetricKind::Gauge, "users", &[label("id", &value)], 1.0)
                .unwrap();
        }
        assert_eq!(
            metrics.record(MetricKind::Gauge, "users", &[label("id", "new")], 1.0),
            Err(MetricError::TooManySeries)
        );
        assert_eq!(
            metrics.record(MetricKind::Gauge, "users", &[label("id", "7")], 2.0),
            Ok(()),
            "an existing series still records"
        );
    }
}
