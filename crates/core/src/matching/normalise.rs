//! Danish name normalisation: case, punctuation, æ/ø/å vs ae/oe/aa, municipality-name suffixes,
//! abbreviations, unit-type synonyms and a light stemmer, giving comparable word tokens.

use super::synonyms::Vocabulary;
use super::text::{fold, words};

/// A street name reduced to a comparable key: folded, without spaces and punctuation, and with the
/// usual abbreviations made equal ("Stationsvej" and "Stationsv.", "Søndergade" and "Sønderg.",
/// "Niels Bohrs Allé" and "Niels Bohrs Alle", "Ringvejen" and "Ringv.en").
pub fn street_key(street: &str) -> String {
    let joined: String = fold(street).chars().filter(|c| c.is_alphanumeric()).collect();
    joined.replace("vej", "v").replace("gade", "g")
}

/// Removes a municipality-name suffix: "Plejecenter Solbo - Faxe Kommune", "Hjemmeplejen, Faxe Kommune"
/// and "Faxe Kommune Hjemmepleje" lose the municipality; a name that is only "Faxe Kommune" is kept.
pub fn strip_municipality(folded: &str) -> String {
    // Separate segments first (" - ", ",", "(", ")"): drop whole segments that end in "kommune".
    let segments: Vec<&str> =
        folded.split([',', '(', ')']).flat_map(|s| s.split(" - ")).map(str::trim).filter(|s| !s.is_empty()).collect();
    let is_municipality = |s: &str| s.split_whitespace().last().is_some_and(|w| w.trim_matches('.') == "kommune");
    let kept: Vec<&str> = if segments.len() > 1 && segments.iter().any(|s| !is_municipality(s)) {
        segments.iter().copied().filter(|s| !is_municipality(s)).collect()
    } else {
        segments
    };
    let text = kept.join(" ");
    // Within what is left: "<Name> Kommune" inside a longer name loses both words.
    let ws: Vec<&str> = text.split_whitespace().collect();
    if let Some(k) = ws.iter().position(|w| w.trim_matches('.') == "kommune" || *w == "kommunes") {
        if ws.len() > 2 && k >= 1 {
            let mut out: Vec<&str> = Vec::with_capacity(ws.len());
            out.extend(&ws[..k - 1]);
            out.extend(&ws[k + 1..]);
            return out.join(" ");
        }
    }
    text
}

const STOP_WORDS: &[&str] = &["og", "i", "for", "af", "til", "paa", "ved", "med", "den", "det", "de", "the", "and"];

/// A light Danish stemmer for words outside the synonym table: drops definite and genitive
/// endings so "Solgården", "Solgårdens" and "Solgård" agree.
pub fn stem(w: &str) -> &str {
    if w.len() < 6 || !w.is_char_boundary(w.len() - 3) {
        return w;
    }
    for suffix in ["erne", "ens", "ets", "ene", "en", "et"] {
        if let Some(s) = w.strip_suffix(suffix) {
            if s.len() >= 4 {
                return s;
            }
        }
    }
    w
}

/// Normalises a unit name to its comparable tokens, in order, with synonyms replaced by their
/// canonical word. Never empty for a non-blank name: if stripping would leave nothing, the plain
/// words are kept.
pub fn name_tokens(name: &str, vocab: &Vocabulary) -> Vec<String> {
    let folded = fold(name);
    let stripped = strip_municipality(&folded);
    let mut toks = tokens_of(&stripped, vocab);
    if toks.is_empty() {
        toks = words(&folded).map(str::to_string).collect();
    }
    toks
}

/// Tokens of already folded text: abbreviations expanded, synonym phrases replaced, stop words dropped.
pub fn tokens_of(folded: &str, vocab: &Vocabulary) -> Vec<String> {
    let mut raw: Vec<String> = Vec::new();
    for w in words(folded) {
        match vocab.abbreviation(w) {
            Some(exp) => raw.extend(exp.iter().cloned()),
            None => raw.push(w.to_string()),
        }
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if let Some((len, canonical)) = vocab.longest_synonym(&raw[i..]) {
            out.push(canonical.to_string());
            i += len;
            continue;
        }
        let w = raw[i].as_str();
        if !STOP_WORDS.contains(&w) {
            out.push(stem(w).to_string());
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokens in sorted order: word order does not matter to the matcher.
    fn toks(s: &str) -> Vec<String> {
        let mut t = name_tokens(s, &Vocabulary::builtin());
        t.sort();
        t
    }

    #[test]
    fn danish_letters_and_their_ascii_spellings_agree() {
        assert_eq!(toks("Ældrecenter Solgården"), toks("AEldrecenter Solgaarden"));
        assert_eq!(toks("Tandplejen Søndre"), toks("Tandplejen Soendre"));
    }

    #[test]
    fn municipality_suffixes_and_abbreviations_go() {
        assert_eq!(toks("Hjpl. Nord - Faxe Kommune"), toks("Hjemmepleje Nord"));
        assert_eq!(toks("Sygepl. Syd, Faxe Kommune"), toks("Sygepleje Syd"));
        assert_eq!(toks("Faxe Kommune Sundhedsplejen"), toks("Sundhedspleje"));
        assert_eq!(toks("Faxe Kommune"), vec!["faxe".to_string(), "kommune".to_string()]);
    }

    #[test]
    fn unit_type_synonyms_become_one_word() {
        assert_eq!(toks("Plejehjemmet Birkely"), toks("Birkely Plejecenter"));
        assert_eq!(toks("Træning og Rehabilitering"), toks("Genoptræning"));
        assert_eq!(toks("Kommunal Tandpleje"), toks("Tandklinik"));
    }
}
