//! The Fellegi-Sunter model: m and u probabilities per feature level, fitted by EM on this run's
//! candidate pairs (starting from, and regularised towards, sensible priors), giving match weights
//! and a posterior match probability per pair.

use std::collections::HashMap;

use super::features::{Feature, Levels, N_FEATURES};

/// Prior m (share among true matches) and u (share among non-matches) per level, and how many
/// pseudo-pairs of prior evidence hold each feature in place against the data.
fn prior(f: Feature) -> (&'static [f64], &'static [f64], f64) {
    match f {
        Feature::Name => {
            (&[0.45, 0.1, 0.2, 0.05, 0.1, 0.06, 0.04, 1.0], &[0.0005, 0.02, 0.002, 0.02, 0.04, 0.15, 0.7675, 1.0], 20.0)
        }
        Feature::Address => (&[0.6, 0.1, 0.15, 0.15, 1.0], &[0.05, 0.03, 0.3, 0.62, 1.0], 20.0),
        Feature::Phone | Feature::Email => (&[0.7, 0.3, 1.0], &[0.05, 0.95, 1.0], 20.0),
        Feature::Ean => (&[0.95, 0.05, 1.0], &[0.0002, 0.9998, 1.0], 200.0),
        // Units seldom move: a matched pair whose parents are linked elsewhere is rare. A pair whose
        // nearest linked ancestors are linked to each other (one register skips a level) is common
        // among matches and non-matches alike, so it says little. The prior is held firmly because
        // candidates found through the parent agree on it by construction, which the independence
        // assumption cannot see.
        Feature::Parent => (&[0.75, 0.22, 0.03, 1.0], &[0.25, 0.2, 0.55, 1.0], 500.0),
        Feature::Children => (&[0.6, 0.3, 0.1, 1.0], &[0.01, 0.09, 0.9, 1.0], 20.0),
    }
}

/// A fitted model.
#[derive(Debug, Clone)]
pub struct Model {
    /// Share of candidate pairs that are matches.
    pub lambda: f64,
    /// Match weight (log2 of m/u) per feature and level; zero for neutral levels and inactive features.
    pub weights: [Vec<f64>; N_FEATURES],
    pub active: [bool; N_FEATURES],
    pub m: [Vec<f64>; N_FEATURES],
    pub u: [Vec<f64>; N_FEATURES],
}

impl Model {
    /// The prior model before any data is seen.
    pub fn prior(active: [bool; N_FEATURES]) -> Self {
        let m = Feature::ALL.map(|f| prior(f).0.to_vec());
        let u = Feature::ALL.map(|f| prior(f).1.to_vec());
        let mut model = Model { lambda: 0.1, weights: Default::default(), active, m, u };
        model.update_weights();
        model
    }

    fn update_weights(&mut self) {
        for f in Feature::ALL {
            let k = f as usize;
            let neutral = f.neutral_level() as usize;
            self.weights[k] = (0..f.levels().len())
                .map(|l| {
                    if !self.active[k] || l == neutral {
                        0.0
                    } else {
                        (self.m[k][l].max(1e-6) / self.u[k][l].max(1e-6)).log2().clamp(-12.0, 12.0)
                    }
                })
                .collect();
        }
    }

    /// log2 of the prior odds of a match among candidate pairs.
    pub fn prior_weight(&self) -> f64 {
        (self.lambda / (1.0 - self.lambda)).log2()
    }

    /// Total match weight of a pair: prior odds plus each feature's weight (log2 odds).
    pub fn score(&self, levels: &Levels) -> f64 {
        let mut s = self.prior_weight();
        for (k, &l) in levels.iter().enumerate() {
            s += self.weights[k][l as usize];
        }
        s
    }

    /// Fits m, u and lambda by EM on the candidate pairs' level vectors. Identical vectors are
    /// counted once with their multiplicity, so a run costs little even with many pairs.
    /// `max_matches` bounds the number of matches (one-to-one: at most the smaller side's count of
    /// units with candidates), which keeps lambda sensible on small trees.
    pub fn fit(
        pairs: impl Iterator<Item = Levels>,
        active: [bool; N_FEATURES],
        iterations: usize,
        max_matches: usize,
    ) -> Self {
        let mut counts: HashMap<Levels, f64> = HashMap::new();
        for l in pairs {
            *counts.entry(l).or_default() += 1.0;
        }
        let patterns: Vec<(Levels, f64)> = counts.into_iter().collect();
        let mut model = Model::prior(active);
        let total: f64 = patterns.iter().map(|p| p.1).sum();
        if total < 1.0 {
            return model;
        }
        for _ in 0..iterations {
            // E-step: posterior match probability per pattern; M-step from those.
            let weighted: Vec<(Levels, f64, f64)> =
                patterns.iter().map(|(l, c)| (*l, *c, c * posterior_of(model.score(l)))).collect();
            let new = model.m_step(&weighted, max_matches);
            let delta = (new.lambda - model.lambda).abs();
            model = new;
            if delta < 1e-6 {
                break;
            }
        }
        model.or_prior_if_inverted()
    }

    /// The M-step: m, u and lambda from `(levels, pairs, expected matches)` per pattern, with the
    /// priors as pseudo-counts.
    pub fn m_step(&self, weighted: &[(Levels, f64, f64)], max_matches: usize) -> Self {
        let mut new = self.clone();
        let total: f64 = weighted.iter().map(|w| w.1).sum();
        if total < 1.0 {
            return new;
        }
        let matches: f64 = weighted.iter().map(|w| w.2).sum();
        let max_lambda = (max_matches as f64 / total).clamp(1e-4, 0.5);
        new.lambda = (matches / total).clamp(1e-4, max_lambda);
        for f in Feature::ALL {
            let k = f as usize;
            let (pm, pu, alpha) = prior(f);
            let n = f.levels().len();
            let neutral = f.neutral_level() as usize;
            let mut cm = vec![0.0; n];
            let mut cu = vec![0.0; n];
            for (l, c, g) in weighted {
                let lv = l[k] as usize;
                if lv == neutral {
                    continue;
                }
                cm[lv] += g;
                cu[lv] += (c - g).max(0.0);
            }
            let prior_sum_m: f64 = (0..n).filter(|&l| l != neutral).map(|l| pm[l]).sum();
            let prior_sum_u: f64 = (0..n).filter(|&l| l != neutral).map(|l| pu[l]).sum();
            let sm: f64 = cm.iter().sum();
            let su: f64 = cu.iter().sum();
            for l in 0..n {
                if l == neutral {
                    new.m[k][l] = 1.0;
                    new.u[k][l] = 1.0;
                    continue;
                }
                new.m[k][l] = (cm[l] + alpha * pm[l] / prior_sum_m) / (sm + alpha);
                new.u[k][l] = (cu[l] + alpha * pu[l] / prior_sum_u) / (su + alpha);
            }
        }
        new.update_weights();
        new
    }

    /// Guard against the EM settling on some other split of the pairs than match/non-match:
    /// the model must still find a same name more telling than a different one.
    pub fn or_prior_if_inverted(self) -> Self {
        let name = &self.weights[Feature::Name as usize];
        if name[0] <= name[6] + 1.0 {
            let mut m = Model::prior(self.active);
            m.lambda = self.lambda;
            return m;
        }
        self
    }
}

/// Probability from a log2-odds score.
pub fn posterior_of(score: f64) -> f64 {
    1.0 / (1.0 + (-score * std::f64::consts::LN_2).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn em_learns_that_agreeing_names_mean_a_match() {
        let mut pairs = Vec::new();
        for i in 0..1000 {
            let matched = i % 10 == 0;
            let name = if matched { 0 } else { 5 + (i % 2) as u8 };
            let phone = if matched || i % 7 == 0 { 0 } else { 1 };
            let address = if matched { 0 } else { 3 };
            pairs.push([name, address, phone, 2, 2, 3, 3]);
        }
        let m = Model::fit(pairs.into_iter(), [true, true, true, true, true, false, false], 50, 1000);
        assert!((m.lambda - 0.1).abs() < 0.05, "lambda {}", m.lambda);
        assert!(m.score(&[0, 0, 0, 2, 2, 3, 3]) > 5.0);
        assert!(m.score(&[6, 3, 1, 2, 2, 3, 3]) < -5.0);
    }
}
