//! One-to-one assignment: each FK-ORG unit and each SOR unit in at most one link. Pairs are taken
//! from a globally sorted list (most confident first), never in file order, so a unit's best
//! counterpart is not taken by a weaker claim that happened to come first.

use super::structure::Pair;

/// Competition-aware confidence: a pair's odds against the odds of every other candidate of
/// either unit (at most one of them can be right), `o / (1 + sum of the row + sum of the column - o)`.
pub fn confidences(pairs: &[Pair], scores: &[f64], n_fk: usize, n_sor: usize) -> Vec<f64> {
    let odds: Vec<f64> = scores.iter().map(|s| s.clamp(-60.0, 60.0).exp2()).collect();
    let mut row = vec![0.0f64; n_fk];
    let mut col = vec![0.0f64; n_sor];
    for (p, o) in pairs.iter().zip(&odds) {
        row[p.f as usize] += o;
        col[p.s as usize] += o;
    }
    pairs.iter().zip(&odds).map(|(p, &o)| o / (1.0 + row[p.f as usize] + col[p.s as usize] - o)).collect()
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
