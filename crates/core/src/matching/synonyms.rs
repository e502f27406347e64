//! The name vocabulary (abbreviations, unit-type synonyms, health words), kept as data in
//! `synonyms.toml` and folded once into lookup tables.

use std::collections::{HashMap, HashSet};

use serde::Deserialize;

use super::text::{edit_distance, fold, words};

const BUILTIN: &str = include_str!("synonyms.toml");

#[derive(Debug, Deserialize)]
struct VocabularyFile {
    abbreviations: HashMap<String, String>,
    synonyms: Vec<SynonymGroup>,
    health: HealthWords,
    designators: HealthWords,
}

#[derive(Debug, Deserialize)]
struct SynonymGroup {
    words: Vec<String>,
    #[serde(default = "yes")]
    health: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Deserialize)]
struct HealthWords {
    words: Vec<String>,
}

/// Why a vocabulary file could not be used.
#[derive(Debug, thiserror::Error)]
#[error("the name vocabulary is not valid: {0}")]
pub struct VocabularyError(String);

/// Folded lookup tables for name normalisation.
#[derive(Debug, Clone, Default)]
pub struct Vocabulary {
    abbreviations: HashMap<String, Vec<String>>,
    /// First word of a phrase -> (phrase words, canonical token), longest phrases first.
    phrases: HashMap<String, Vec<(Vec<String>, String)>>,
    canonicals: HashSet<String>,
    health: Vec<String>,
    designators: HashSet<String>,
    /// One-word synonyms (folded) and their canonical token, for correcting typos.
    single_words: Vec<(String, String)>,
}

impl Vocabulary {
    /// The vocabulary shipped with sorsync (`crates/core/src/matching/synonyms.toml`).
    pub fn builtin() -> Self {
        // The embedded file is checked by a unit test, so this cannot fail in a built binary.
        Self::from_toml(BUILTIN).unwrap_or_default()
    }

    /// Reads a vocabulary in the format of `synonyms.toml`.
    pub fn from_toml(text: &str) -> Result<Self, VocabularyError> {
        let file: VocabularyFile = toml::from_str(text).map_err(|e| VocabularyError(e.to_string()))?;
        let mut v = Vocabulary::default();
        for (k, exp) in file.abbreviations {
            let key = fold(k.trim_end_matches('.'));
            v.abbreviations.insert(key, words(&fold(&exp)).map(str::to_string).collect());
        }
        for group in file.synonyms {
            let Some(first) = group.words.first() else { continue };
            let canonical: String = words(&fold(first)).collect::<Vec<_>>().join("");
            for w in &group.words {
                let phrase: Vec<String> = words(&fold(w)).map(str::to_string).collect();
                if let Some(head) = phrase.first().cloned() {
                    v.phrases.entry(head).or_default().push((phrase, canonical.clone()));
                }
            }
            if group.health {
                v.canonicals.insert(canonical);
            }
        }
        for list in v.phrases.values() {
            for (phrase, canonical) in list {
                if let [w] = phrase.as_slice() {
                    if w.len() >= 6 {
                        v.single_words.push((w.clone(), canonical.clone()));
                    }
                }
            }
        }
        for list in v.phrases.values_mut() {
            list.sort_by_key(|p| std::cmp::Reverse(p.0.len()));
        }
        v.health = file.health.words.iter().map(|w| fold(w)).collect();
        v.designators = file.designators.words.iter().map(|w| fold(w)).collect();
        Ok(v)
    }

    /// The expansion of an abbreviation (folded, without its dot), if it is one.
    pub fn abbreviation(&self, word: &str) -> Option<&[String]> {
        self.abbreviations.get(word).map(Vec::as_slice)
    }

    /// The longest synonym phrase at the start of `words`: how many words it covers and its canonical token.
    pub fn longest_synonym(&self, words: &[String]) -> Option<(usize, &str)> {
        let list = self.phrases.get(words.first()?)?;
        list.iter()
            .find(|(phrase, _)| phrase.len() <= words.len() && phrase.iter().zip(words).all(|(p, w)| p == w))
            .map(|(phrase, canonical)| (phrase.len(), canonical.as_str()))
    }

    /// The canonical unit-type word for a misspelt one ("plejehjme" -> "plejecenter"): a word of six
    /// letters or more within one edit of a one-word synonym. `None` for canonical words and
    /// everything else.
    pub fn correct(&self, token: &str) -> Option<&str> {
        if token.len() < 6 || self.canonicals.contains(token) || self.phrases.contains_key(token) {
            return None;
        }
        self.single_words
            .iter()
            .find(|(w, _)| edit_distance(w.as_bytes(), token.as_bytes(), 1).is_some())
            .map(|(_, c)| c.as_str())
    }

    /// The unit-type words two names use for the same kind of unit when they are written
    /// differently ("Plejecenter" in one name, "Plejehjemmet" in the other), as written in the names.
    pub fn same_kind_words(&self, a: &str, b: &str) -> Option<(String, String)> {
        let kinds = |name: &str| -> Vec<(String, String, String)> {
            let raw: Vec<&str> = name.split_whitespace().collect();
            let folded: Vec<String> =
                raw.iter().map(|w| fold(w).trim_matches(|c: char| !c.is_alphanumeric()).to_string()).collect();
            let mut out = Vec::new();
            let mut i = 0;
            while i < folded.len() {
                match self.longest_synonym(&folded[i..]) {
                    Some((n, canonical)) => {
                        let surface = raw[i..i + n].join(" ");
                        let surface = surface.trim_matches(|c: char| !c.is_alphanumeric()).to_string();
                        out.push((canonical.to_string(), folded[i..i + n].join(" "), surface));
                        i += n;
                    }
                    None => i += 1,
                }
            }
            out
        };
        let (ka, kb) = (kinds(a), kinds(b));
        ka.iter().find_map(|(canonical, folded, surface)| {
            kb.iter()
                .find(|(c, f, _)| c == canonical && f != folded)
                .map(|(_, _, other)| (surface.clone(), other.clone()))
        })
    }

    /// True for a word that tells units of one kind apart: a listed designator ("nord", "aften"),
    /// a number, or a word of at most two characters ("a", "b2").
    pub fn is_designator(&self, token: &str) -> bool {
        token.len() <= 2 || token.bytes().all(|b| b.is_ascii_digit()) || self.designators.contains(token)
    }

    /// True when a name looks health-related: a unit-type synonym among its tokens, or a health
    /// word inside its folded text (also inside compounds such as "hjemmeplejegruppe").
    pub fn is_health_like(&self, folded_name: &str, tokens: &[String]) -> bool {
        tokens.iter().any(|t| self.canonicals.contains(t))
            || self.health.iter().any(|h| folded_name.contains(h.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_vocabulary_parses_and_has_the_care_home_synonyms() {
        let v = Vocabulary::from_toml(BUILTIN).expect("synonyms.toml parses");
        let plejehjem = vec!["plejehjem".to_string()];
        assert_eq!(v.longest_synonym(&plejehjem), Some((1, "plejecenter")));
        assert!(v.is_health_like("hjemmeplejegruppe nord", &[]));
        assert!(!v.is_health_like("it-afdelingen", &["it".into(), "afdeling".into()]));
    }
}
