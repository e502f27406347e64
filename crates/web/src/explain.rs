//! A link's explanation in the SOR administrator's words: each feature's contribution becomes a
//! plain phrase ("same address", "parents already linked", "Plejecenter and Plejehjemmet are the
//! same kind of unit"); the evidence for the link shares out the final confidence in proportion
//! to its weight, so the points add up to the confidence; evidence against is "some" or
//! "strong". No priors, no log-odds.

use std::sync::OnceLock;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::matching::json::ContributionDto;
use crate::matching::normalise::name_tokens;
use crate::matching::synonyms::Vocabulary;

/// One reason, as data: the page words it in the reader's language from `phrase`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, JsonSchema)]
pub struct ReasonView {
    /// The feature it comes from (`name`, `address`, `phone`, `email`, `ean`, `parent`, `children`, `sor_id`).
    pub feature: String,
    /// The phrase's key in the catalogue (`why_same_address`, ...).
    pub phrase: String,
    /// The phrase in English.
    pub text: String,
    /// For evidence for the link: its share of the confidence, in percentage points.
    pub points: Option<f64>,
    /// `for` or `against`, with `strong` or `some`: `strong_for`, `some_for`, `some_against`, `strong_against`.
    pub strength: String,
    /// Two words of the names that mean the same kind of unit (FK-ORG's, SOR's), if any.
    // A pair is a two-item array in JSON (OpenAPI 3.0 has no tuple schemas).
    #[schemars(with = "Option<[String; 2]>")]
    pub same_kind: Option<(String, String)>,
}

/// The phrase key for a feature's level label (the labels of `matching::features`). None: the
/// contribution says nothing a person needs (missing data, no linked sub-units).
fn phrase_key(feature: &str, value: &str) -> Option<&'static str> {
    let v = value.trim();
    Some(match feature {
        "sor_id" => "why_sor_id_recorded",
        "name" if v.starts_with("same, and no other") => "why_same_name_unique",
        "name" if v.starts_with("same") => "why_same_name_shared",
        "name" if v.starts_with("very similar") => "why_nearly_same_name",
        "name" if v.starts_with("similar") => "why_similar_name",
        "name" if v.starts_with("partly similar") => "why_partly_similar_name",
        "name" if v.starts_with("different") => "why_different_name",
        "address" if v.starts_with("same street, number") => "why_same_address",
        "address" if v.starts_with("same street") => "why_same_street",
        "address" if v.starts_with("same postcode") => "why_same_postcode",
        "address" if v.starts_with("different") => "why_different_address",
        "phone" if v == "same" => "why_same_phone",
        "phone" if v == "different" => "why_different_phone",
        "email" if v == "same" => "why_same_email",
        "email" if v == "different" => "why_different_email",
        "ean" if v == "same" => "why_same_ean",
        "ean" if v == "different" => "why_different_ean",
        "parent" if v.starts_with("parents are linked to each other") => "why_parents_linked",
        "parent" if v.starts_with("parents are linked elsewhere") => "why_parents_linked_elsewhere",
        "parent" if v.starts_with("parents not linked") => "why_parents_not_linked",
        "children" if v.starts_with("most children") => "why_most_children_linked",
        "children" if v.starts_with("some children") => "why_some_children_linked",
        "children" if v.starts_with("children linked elsewhere") => "why_children_linked_elsewhere",
        _ => return None,
    })
}

/// The English text of a phrase key (the page uses the catalogue in `i18n`).
fn english(key: &str, same_kind: Option<&(String, String)>) -> String {
    let base = super::i18n::Lang::En.text(key).unwrap_or(key).to_string();
    match same_kind {
        Some((a, b)) => format!("{base}; {a} and {b} are the same kind of unit"),
        None => base,
    }
}

fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(Vocabulary::builtin)
}

/// Two words, one from each name, that differ as written but mean the same kind of unit
/// ("Plejecenter", "Plejehjemmet").
pub fn same_kind_words(fk_name: &str, sor_name: &str) -> Option<(String, String)> {
    let vocab = vocabulary();
    let words = |s: &str| -> Vec<String> { s.split_whitespace().map(str::to_string).collect() };
    let (fk_words, sor_words) = (words(fk_name), words(sor_name));
    let lower = |w: &str| w.to_lowercase();
    for a in fk_words.iter().filter(|a| !sor_words.iter().any(|b| lower(b) == lower(a))) {
        let ta = name_tokens(a, vocab);
        if ta.is_empty() {
            continue;
        }
        for b in sor_words.iter().filter(|b| !fk_words.iter().any(|a2| lower(a2) == lower(b))) {
            if name_tokens(b, vocab) == ta {
                return Some((a.clone(), b.clone()));
            }
        }
    }
    None
}

/// The reasons behind a link of confidence `confidence`: the evidence for it first (largest
/// share first), then the evidence against.
pub fn reasons(
    explanation: &[ContributionDto],
    confidence: f64,
    fk_name: Option<&str>,
    sor_name: Option<&str>,
) -> Vec<ReasonView> {
    let same_kind = match (fk_name, sor_name) {
        (Some(f), Some(s)) => same_kind_words(f, s),
        _ => None,
    };
    let shown: Vec<(&ContributionDto, &'static str)> = explanation
        .iter()
        .filter(|c| c.weight != 0.0)
        .filter_map(|c| phrase_key(&c.feature, &c.value).map(|k| (c, k)))
        .collect();
    let total_for: f64 = shown.iter().map(|(c, _)| c.weight).filter(|w| *w > 0.0).sum();
    let mut out: Vec<ReasonView> = shown
        .iter()
        .map(|(c, key)| {
            let kind = if c.feature == "name" { same_kind.clone() } else { None };
            let points = (c.weight > 0.0 && total_for > 0.0).then(|| 100.0 * confidence * c.weight / total_for);
            let strength = match c.weight {
                w if w >= 3.0 => "strong_for",
                w if w > 0.0 => "some_for",
                w if w <= -3.0 => "strong_against",
                _ => "some_against",
            };
            ReasonView {
                feature: c.feature.clone(),
                phrase: key.to_string(),
                text: english(key, kind.as_ref()),
                points,
                strength: strength.into(),
                same_kind: kind,
            }
        })
        .collect();
    out.sort_by(|a, b| b.points.unwrap_or(-1.0).total_cmp(&a.points.unwrap_or(-1.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(feature: &str, value: &str, weight: f64) -> ContributionDto {
        ContributionDto { feature: feature.into(), value: value.into(), weight }
    }

    #[test]
    fn the_points_add_up_to_the_confidence_and_no_prior_is_shown() {
        let explanation = [
            c("prior", "share of candidate pairs that match: 0.010", -6.6),
            c("name", "very similar (0.91)", 6.0),
            c("address", "same street, number and postcode", 3.0),
            c("phone", "different", -2.0),
            c("email", "missing", 0.0),
        ];
        let r = reasons(&explanation, 0.93, Some("Plejecenter Solgården"), Some("Plejehjemmet Solgården"));
        assert!(r.iter().all(|x| x.feature != "prior" && x.feature != "email"), "{r:?}");
        let sum: f64 = r.iter().filter_map(|x| x.points).sum();
        assert!((sum - 93.0).abs() < 1e-9, "{sum}");
        assert_eq!(r[0].phrase, "why_nearly_same_name");
        assert_eq!(r[1].text, "same address");
        assert_eq!(r[2].text, "different phone number");
        assert_eq!(r[2].strength, "some_against");
    }

    #[test]
    fn synonymous_words_of_the_two_names_are_named() {
        let pair = same_kind_words("Plejecenter Solgården", "Plejehjemmet Solgården");
        assert_eq!(pair, Some(("Plejecenter".to_string(), "Plejehjemmet".to_string())));
        assert_eq!(same_kind_words("Plejecenter Solgården", "Plejecenter Solgården"), None);
    }
}
