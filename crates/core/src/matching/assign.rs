//! One-to-one assignment: each FK-ORG unit and each SOR unit in at most one link. Pairs are taken
//! from a globally sorted list (most confident first), never in file order, so a unit's best
//! counterpart is not taken by a weaker claim that happened to come first.

use super::features::Pair;

/// Rounds of the mean-field correction for the one-to-one constraint in [`confidences`]. Three
/// give the same links and calibration as running to convergence, at a fraction of the cost
/// (the correction runs at every EM step).
const MEAN_FIELD_ITERATIONS: usize = 3;

/// One-to-one posterior. Each FK-ORG unit has a counterpart among its `n` candidates with prior
/// probability `pi`, any of its `n` plausible candidates alike beforehand; given every candidate's likelihood ratio
/// `L = m(x)/u(x)` (the model's weight without its prior), the chance that candidate `i` is the one is
/// `(pi/n) L_i / ((1 - pi) + (pi/n) sum_j L_j)`. The same holds from the SOR side; a pair's confidence
/// is the smaller of the two, since both units must agree on it.
///
/// Taken alone, each side ignores that its candidates are also claimed from the other side: a
/// runner-up that is clearly another unit's counterpart still counts as a full competitor, which
/// makes the confidence too low where the counterpart is in fact clear, and too high where this
/// candidate is taken elsewhere. So the one-to-one constraint is applied by mean field: a
/// hypothesis "unit f is matched to s" counts only as far as s is free of its other candidates,
/// `a = 1 - sum_{f' != f} c(f', s)` (and the same from the SOR side), re-estimated from the
/// confidences a few times (see `MEAN_FIELD_ITERATIONS`).
pub fn confidences(pairs: &[Pair], llr: &[f64], pi_fk: &[f64], pi_sor: &[f64]) -> Vec<f64> {
    let (n_fk, n_sor) = (pi_fk.len(), pi_sor.len());
    let lr: Vec<f64> = llr.iter().map(|s| s.clamp(-60.0, 60.0).exp2()).collect();
    let mut row = vec![0.0f64; n_fk];
    let mut col = vec![0.0f64; n_sor];
    let mut n_row = vec![0u32; n_fk];
    let mut n_col = vec![0u32; n_sor];
    for (p, l) in pairs.iter().zip(&lr) {
        row[p.f as usize] += l;
        col[p.s as usize] += l;
        // The prior is spread over the plausible candidates (likelihood ratio at least 1): a
        // candidate the evidence already rules out does not dilute it.
        if *l >= 1.0 {
            n_row[p.f as usize] += 1;
            n_col[p.s as usize] += 1;
        }
    }
    let posterior = |l: f64, sum: f64, n: u32, pi: f64| {
        let each = pi / n.max(1) as f64;
        each * l / ((1.0 - pi) + each * sum)
    };
    let mut conf: Vec<f64> = pairs
        .iter()
        .zip(&lr)
        .map(|(p, &l)| {
            let (f, s) = (p.f as usize, p.s as usize);
            let by_fk = posterior(l, row[f], n_row[f], pi_fk[f]);
            let by_sor = posterior(l, col[s], n_col[s], pi_sor[s]);
            by_fk.min(by_sor)
        })
        .collect();
    for _ in 0..MEAN_FIELD_ITERATIONS {
        // Expected number of links each unit takes under the current confidences.
        let mut taken_f = vec![0.0f64; n_fk];
        let mut taken_s = vec![0.0f64; n_sor];
        for (p, c) in pairs.iter().zip(&conf) {
            taken_f[p.f as usize] += c;
            taken_s[p.s as usize] += c;
        }
        // Per pair: its likelihood ratio as seen from the FK side (weighted by the chance that the
        // SOR unit is free of other FK units) and from the SOR side.
        let avail: Vec<(f64, f64)> = pairs
            .iter()
            .zip(&lr)
            .zip(&conf)
            .map(|((p, &l), &c)| {
                let free_s = (1.0 - (taken_s[p.s as usize] - c)).clamp(0.0, 1.0);
                let free_f = (1.0 - (taken_f[p.f as usize] - c)).clamp(0.0, 1.0);
                (l * free_s, l * free_f)
            })
            .collect();
        row.iter_mut().for_each(|x| *x = 0.0);
        col.iter_mut().for_each(|x| *x = 0.0);
        for (p, &(by_f, by_s)) in pairs.iter().zip(&avail) {
            row[p.f as usize] += by_f;
            col[p.s as usize] += by_s;
        }
        let mut delta = 0.0f64;
        for ((p, &(by_f, by_s)), c) in pairs.iter().zip(&avail).zip(conf.iter_mut()) {
            let (f, s) = (p.f as usize, p.s as usize);
            let by_fk = posterior(by_f, row[f], n_row[f], pi_fk[f]);
            let by_sor = posterior(by_s, col[s], n_col[s], pi_sor[s]);
            let next = by_fk.min(by_sor);
            delta = delta.max((next - *c).abs());
            *c = next;
        }
        if delta < 1e-3 {
            break;
        }
    }
    conf
}

/// Picks links: most confident pair first, skipping pairs whose units are taken or already linked
/// (`link` / `rev` hold the fixed links on entry). Returns, per FK-ORG unit, the chosen pair index.
pub fn assign(
    pairs: &[Pair],
    conf: &[f64],
    scores: &[f64],
    min_confidence: f64,
    link: &mut [Option<u32>],
    rev: &mut [Option<u32>],
) -> Vec<Option<u32>> {
    let mut order: Vec<u32> = (0..pairs.len() as u32).filter(|&i| conf[i as usize] >= min_confidence).collect();
    order.sort_by(|&a, &b| {
        let (a, b) = (a as usize, b as usize);
        conf[b]
            .total_cmp(&conf[a])
            .then(scores[b].total_cmp(&scores[a]))
            .then(pairs[a].f.cmp(&pairs[b].f))
            .then(pairs[a].s.cmp(&pairs[b].s))
    });
    let mut chosen = vec![None; link.len()];
    for i in order {
        let p = &pairs[i as usize];
        let (f, s) = (p.f as usize, p.s as usize);
        if link[f].is_some() || rev[s].is_some() {
            continue;
        }
        link[f] = Some(p.s);
        rev[s] = Some(p.f);
        chosen[f] = Some(i);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_runner_up_taken_by_another_unit_does_not_dilute_the_confidence() {
        // FK 0 and FK 1 each match their own SOR unit well; FK 0 also looks somewhat like SOR 1,
        // which FK 1 clearly takes.
        let pair = |f: u32, s: u32| Pair { f, s, levels: [0; 7], sim: 1.0 };
        let pairs = [pair(0, 0), pair(1, 1), pair(0, 1)];
        let conf = confidences(&pairs, &[10.0, 10.0, 8.0], &[0.9, 0.9], &[0.9, 0.9]);
        assert!(conf[0] > 0.95, "FK 0 -> SOR 0: {}", conf[0]);
        assert!(conf[1] > 0.95, "FK 1 -> SOR 1: {}", conf[1]);
        assert!(conf[2] < 0.1, "FK 0 -> SOR 1: {}", conf[2]);
    }
}
