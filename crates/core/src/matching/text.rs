//! Text primitives the rest of matching builds on: folding Danish letters, splitting words, and a
//! bounded edit distance. Nothing here knows the vocabulary (that is `synonyms`, built on these).

/// Lowercases and folds Danish and other accented letters to one ASCII form
/// (æ -> ae, ø -> oe, å -> aa), so "Ældrecenter" and "AEldrecenter" compare equal.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            'æ' | 'Æ' | 'ä' | 'Ä' => out.push_str("ae"),
            'ø' | 'Ø' | 'ö' | 'Ö' => out.push_str("oe"),
            'å' | 'Å' => out.push_str("aa"),
            'é' | 'è' | 'ê' | 'É' | 'È' => out.push('e'),
            'ü' | 'Ü' | 'ú' => out.push('u'),
            'á' | 'à' | 'Á' => out.push('a'),
            'í' | 'ï' => out.push('i'),
            'ó' | 'ô' => out.push('o'),
            '–' | '—' => out.push('-'),
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}
/// Splits folded text into alphanumeric words (dots, dashes, slashes and other punctuation separate).
pub fn words(folded: &str) -> impl Iterator<Item = &str> {
    folded.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty())
}

/// Optimal-string-alignment edit distance (insertions, deletions, substitutions, adjacent
/// transpositions), or `None` when it exceeds `max`.
pub fn edit_distance(a: &[u8], b: &[u8], max: usize) -> Option<usize> {
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    if a == b {
        return Some(0);
    }
    let n = b.len();
    let mut prev2: Vec<usize> = vec![0; n + 1];
    let mut prev: Vec<usize> = (0..=n).collect();
    let mut cur: Vec<usize> = vec![0; n + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=n {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    Some(prev[n]).filter(|&d| d <= max)
}

/// Typo tolerance for one word: how many edits still count as the same word (none below 4
/// letters, one up to 8, two beyond).
pub fn allowed_edits(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=8 => 1,
        _ => 2,
    }
}

#[cfg(test)]
mod tests {
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    use super::*;

    #[test]
    fn edit_distance_counts_typos_and_gives_up_beyond_the_bound() {
        assert_eq!(edit_distance(b"solgaarden", b"solgarden", 2), Some(1));
        assert_eq!(edit_distance(b"birkehav", b"birkepark", 1), None);
        assert_eq!(edit_distance(b"plejehjme", b"plejehjem", 1), Some(1));
    }

    /// The bounded distance agrees with strsim's optimal-string-alignment distance, the reference,
    /// on random words from a small alphabet (so typos, swaps and repeats are common): the same
    /// distance when it is within the bound, `None` when it is not.
    #[test]
    fn edit_distance_agrees_with_strsim_within_the_bound() {
        let mut rng = ChaCha8Rng::seed_from_u64(17);
        let word = |rng: &mut ChaCha8Rng| -> String {
            let len = rng.gen_range(0..12);
            (0..len).map(|_| char::from(b"aeijnrs"[rng.gen_range(0..7)])).collect()
        };
        for _ in 0..20_000 {
            let (a, b) = (word(&mut rng), word(&mut rng));
            let max = rng.gen_range(0..4);
            let reference = strsim::osa_distance(&a, &b);
            let expected = (reference <= max).then_some(reference);
            assert_eq!(edit_distance(a.as_bytes(), b.as_bytes(), max), expected, "{a:?} vs {b:?} within {max}");
        }
    }
}
