//! Name pools (Danish place, person and unit names) and the ways the two registers write the same
//! name differently: type-word synonyms, ae/oe/aa, abbreviations, suffixes, typos, case, word order.

use rand::seq::SliceRandom;
use rand::Rng;

pub use crate::domain::municipalities::ascii_fold;

/// True when the name has a Danish letter that [`ascii_fold`] would change.
pub fn has_danish_letters(s: &str) -> bool {
    s.chars().any(|c| matches!(c, 'æ' | 'ø' | 'å' | 'Æ' | 'Ø' | 'Å'))
}

/// Picks one element; the pools are never empty.
pub fn pick<'a, R: Rng>(rng: &mut R, pool: &'a [&'a str]) -> &'a str {
    pool.choose(rng).copied().unwrap_or("")
}

pub const PLACE_PREFIXES: &[&str] = &[
    "Sol", "Ege", "Linde", "Birke", "Rosen", "Kastanje", "Bøge", "Æble", "Eng", "Fjord", "Skov", "Sø", "Mose", "Kilde",
    "Tofte", "Hybe", "Mølle", "Lyng", "Å", "Strand", "Vester", "Øster", "Nørre", "Sønder", "Ahorn", "Elme", "Tjørne",
    "Bakke", "Humle", "Hav", "Grønne", "Tårn", "Kløver", "Fredens", "Lærke", "Rønne", "Pile", "Høj", "Kær", "Dal",
    "Løv", "Hvide", "Valmue", "Hylde", "Gran", "Fyrre", "Hassel", "Marie", "Karen", "Abild",
];
pub const PLACE_SUFFIXES: &[&str] = &[
    "gården", "huset", "bo", "ly", "høj", "haven", "vang", "lund", "bakken", "parken", "toften", "engen", "lyst",
    "dal", "gård", "borg",
];

/// Villages and parts of towns, used for districts, clinics, libraries.
pub const TOWNS: &[&str] = &[
    "Haslev",
    "Dalmose",
    "Glumsø",
    "Fensmark",
    "Karise",
    "Rønnede",
    "Strøby",
    "Hårlev",
    "Ørslev",
    "Lundby",
    "Bjæverskov",
    "Vallø",
    "Havdrup",
    "Jyllinge",
    "Åbyhøj",
    "Brabrand",
    "Højbjerg",
    "Tranbjerg",
    "Skødstrup",
    "Løgstør",
    "Hals",
    "Nibe",
    "Svenstrup",
    "Vodskov",
    "Nørresundby",
    "Sæby",
    "Skagen",
    "Hirtshals",
    "Løkken",
    "Vrå",
    "Tårs",
    "Sindal",
    "Brovst",
    "Fjerritslev",
    "Ry",
    "Hammel",
    "Hadsten",
    "Rønde",
    "Kolind",
    "Ørum",
    "Bjerringbro",
    "Kjellerup",
    "Karup",
    "Stoholm",
    "Ålestrup",
    "Farsø",
    "Gråsten",
    "Nordborg",
    "Augustenborg",
    "Rødding",
    "Vojens",
    "Gram",
    "Brørup",
    "Holsted",
    "Bramming",
    "Ribe",
    "Tarm",
    "Videbæk",
    "Spjald",
    "Aulum",
    "Vildbjerg",
    "Sunds",
    "Brande",
    "Give",
    "Jelling",
    "Egtved",
    "Børkop",
    "Tørring",
    "Juelsminde",
    "Brædstrup",
    "Gedved",
    "Ørbæk",
    "Årslev",
    "Glamsbjerg",
    "Vissenbjerg",
    "Tommerup",
    "Haarby",
    "Bogense",
    "Søndersø",
    "Munkebo",
    "Marstal",
    "Tranekær",
    "Tølløse",
    "Vig",
    "Asnæs",
    "Gørlev",
    "Dianalund",
    "Skælskør",
    "Korsør",
    "Valby",
    "Vanløse",
    "Brønshøj",
    "Amager",
    "Østerbro",
    "Nørrebro",
    "Vesterbro",
    "Sundby",
    "Bispebjerg",
];
pub const COMPASS: &[&str] = &["Nord", "Syd", "Øst", "Vest", "Midt", "Centrum", "Nordvest", "Sydøst"];

pub const STREETS: &[&str] = &[
    "Skolevej",
    "Kirkevej",
    "Bøgevej",
    "Søndergade",
    "Nørregade",
    "Østergade",
    "Vestergade",
    "Stationsvej",
    "Møllevej",
    "Parkvej",
    "Engvej",
    "Skovvej",
    "Hovedgaden",
    "Torvet",
    "Ringvejen",
    "Industrivej",
    "Åboulevarden",
    "Strandvejen",
    "Præstevænget",
    "Kærvej",
    "Lærkevej",
    "Birkevej",
    "Egevej",
    "Lindevej",
    "Ahornvej",
    "Rosenvænget",
    "Tværgade",
    "Klostergade",
    "Slotsgade",
    "Bredgade",
    "Havnegade",
    "Jernbanegade",
    "Fælledvej",
    "Ålekistevej",
    "Grønnegade",
    "Kongevejen",
    "Dronningensgade",
    "Bakkevej",
    "Højvangen",
    "Sygehusvej",
    "Plejehjemsvej",
    "Solvænget",
    "Æblehaven",
    "Byagervej",
    "Tingvej",
    "Rådhuspladsen",
    "Gl. Kongevej",
    "Sankt Jørgens Vej",
    "H.C. Andersens Boulevard",
    "Niels Bohrs Allé",
];

pub const FIRST_NAMES: &[&str] = &[
    "Anne",
    "Mette",
    "Hanne",
    "Susanne",
    "Lene",
    "Marianne",
    "Camilla",
    "Louise",
    "Charlotte",
    "Pia",
    "Helle",
    "Tina",
    "Maria",
    "Karina",
    "Bente",
    "Signe",
    "Sofie",
    "Ida",
    "Emma",
    "Julie",
    "Mads",
    "Peter",
    "Jens",
    "Lars",
    "Søren",
    "Michael",
    "Henrik",
    "Thomas",
    "Martin",
    "Jesper",
    "Rasmus",
    "Anders",
    "Niels",
    "Morten",
    "Christian",
    "Frederik",
    "Mikkel",
    "Jørgen",
    "Bjørn",
    "Åse",
    "Birthe",
    "Jørn",
    "Kirsten",
    "Gitte",
    "Dorthe",
    "Malene",
    "Nanna",
    "Line",
    "Jonas",
    "Kasper",
    "Ahmed",
    "Fatima",
    "Ali",
    "Zeynep",
    "Agnieszka",
    "Tomasz",
    "Inge",
    "Grethe",
    "Lone",
    "Rikke",
    "Trine",
    "Stine",
    "Maja",
    "Sara",
    "Kristian",
    "Ole",
    "Poul",
    "Hans",
];
pub const MIDDLE_NAMES: &[&str] = &["Marie", "Louise", "Kristine", "Juul", "Bach", "Munk", "Krogh", "Lykke", "Holm"];
pub const LAST_NAMES: &[&str] = &[
    "Jensen",
    "Nielsen",
    "Hansen",
    "Pedersen",
    "Andersen",
    "Christensen",
    "Larsen",
    "Sørensen",
    "Rasmussen",
    "Jørgensen",
    "Petersen",
    "Madsen",
    "Kristensen",
    "Olsen",
    "Thomsen",
    "Christiansen",
    "Poulsen",
    "Johansen",
    "Møller",
    "Mortensen",
    "Knudsen",
    "Jakobsen",
    "Mikkelsen",
    "Olesen",
    "Frederiksen",
    "Laursen",
    "Henriksen",
    "Lund",
    "Holm",
    "Schmidt",
    "Eriksen",
    "Kristiansen",
    "Clausen",
    "Simonsen",
    "Svendsen",
    "Andreasen",
    "Iversen",
    "Østergaard",
    "Jeppesen",
    "Vestergaard",
    "Nissen",
    "Lauridsen",
    "Kjær",
    "Jepsen",
    "Mogensen",
    "Dahl",
    "Bach",
    "Brandt",
    "Skov",
    "Friis",
    "Yilmaz",
    "Hussein",
    "Nowak",
    "Søndergaard",
    "Bækgaard",
];

/// Private providers of care (owners of their own SOR institution).
pub const PRIVATE_PROVIDERS: &[&str] = &[
    "Din Hjemmepleje",
    "Frit Valg Hjemmehjælp",
    "Privat Omsorg",
    "Danske Hjemmehjælp",
    "Kærgården Privat Plejehjem",
    "Omsorgsgruppen",
    "Hjemmehjælpen Plus",
    "Seniorplejen",
    "Trygheds Pleje",
    "Ældrehjælpen Privat",
];

/// The canonical unit type words and what the other register may write instead.
pub const TYPE_SYNONYMS: &[(&str, &[&str])] = &[
    ("Plejecenter", &["Plejehjem", "Plejeboliger", "Ældrecenter", "Plejecentret", "Omsorgscenter"]),
    ("Hjemmepleje", &["Hjemmeplejen", "Hjemmehjælp", "Hjemmeplejegruppe"]),
    ("Sygeplejeklinik", &["Sygeplejeklinikken", "Sygeplejerskeklinik", "Sundhedsklinik"]),
    ("Tandklinik", &["Tandplejeklinik", "Tandklinikken", "Skoletandklinik"]),
    ("Genoptræningscenter", &["Træningscenter", "Genoptræning", "Rehabiliteringscenter"]),
    ("Sundhedsplejen", &["Sundhedspleje", "Sundhedsplejerskerne"]),
    ("Botilbud", &["Bosted", "Bofællesskab", "Botilbuddet"]),
    ("Akutteam", &["Akutteamet", "Akutfunktion", "Akutsygepleje"]),
    ("Rusmiddelcenter", &["Misbrugscenter", "Rusmiddelcentret", "Alkohol- og stofbehandling"]),
    ("Hjemmesygepleje", &["Hjemmesygeplejen", "Sygeplejen", "Udekørende sygepleje"]),
    ("Aflastningspladser", &["Midlertidige pladser", "Korttidspladser", "Aflastning"]),
];

/// Abbreviations as registrars write them.
pub const ABBREVIATIONS: &[(&str, &str)] = &[
    ("Plejecenter", "Plejectr."),
    ("Plejecentret", "Plejectr."),
    ("Hjemmesygepleje", "Hj.sygepl."),
    ("Hjemmepleje", "Hj.pleje"),
    ("Sundhedsplejen", "Sundhedspl."),
    ("Genoptræningscenter", "Genoptr.center"),
    ("Afsnit", "Afs."),
    ("Område", "Omr."),
    ("Rehabilitering", "Rehab."),
    ("Sygeplejeklinik", "Sygepl.klinik"),
    ("Træningscenter", "Træningsctr."),
    ("Kommunale", "Komm."),
    ("Kommune", "Kom."),
    ("og", "&"),
];

/// The type-word synonyms of `word`, if it is a type word.
pub fn synonyms_of(word: &str) -> Option<&'static [&'static str]> {
    TYPE_SYNONYMS.iter().find(|(w, _)| *w == word).map(|(_, s)| *s)
}

/// A unit name split into its type word ("Plejecenter") and the proper part ("Solgården").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnitName {
    pub type_word: Option<&'static str>,
    pub proper: String,
    /// "Solgården Plejecenter" rather than "Plejecenter Solgården".
    pub proper_first: bool,
}

impl UnitName {
    pub fn typed(type_word: &'static str, proper: impl Into<String>) -> Self {
        UnitName { type_word: Some(type_word), proper: proper.into(), proper_first: false }
    }
    pub fn plain(name: impl Into<String>) -> Self {
        UnitName { type_word: None, proper: name.into(), proper_first: false }
    }
    pub fn render(&self) -> String {
        self.render_with(self.type_word)
    }
    fn render_with(&self, type_word: Option<&str>) -> String {
        match type_word {
            None => self.proper.clone(),
            Some(t) if self.proper.is_empty() => t.to_string(),
            Some(t) if self.proper_first => format!("{} {}", self.proper, t),
            Some(t) => format!("{} {}", t, self.proper),
        }
    }
}

/// Which differences were applied to one SOR name (for the statistics in the manifest).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NameDiffs {
    pub synonym: bool,
    pub word_order: bool,
    pub abbreviation: bool,
    pub municipality_suffix: bool,
    pub ascii_letters: bool,
    pub case: bool,
    pub typo: bool,
    pub parent_prefix: bool,
}

/// The rates (already multiplied by noise) used for one name.
#[derive(Debug, Clone, Copy)]
pub struct NameRates {
    pub synonym: f64,
    pub word_order: f64,
    pub abbreviation: f64,
    pub municipality_suffix: f64,
    pub ascii_letters: f64,
    pub case: f64,
    pub typo: f64,
    pub generic_parent_prefix: f64,
}

fn chance<R: Rng>(rng: &mut R, p: f64) -> bool {
    p > 0.0 && rng.gen::<f64>() < p.min(1.0)
}

/// The name the other register (SOR) holds for the same unit, with the differences drawn at the
/// given rates. `kommune` is the short name ("København"), `official` the official one
/// ("Københavns Kommune"); `generic_parent` is the parent's proper name for generic children
/// ("Afsnit A").
pub fn sor_variant<R: Rng>(
    rng: &mut R,
    name: &UnitName,
    kommune: &str,
    official: &str,
    generic_parent: Option<&str>,
    rates: &NameRates,
) -> (String, NameDiffs) {
    let mut d = NameDiffs::default();
    let mut n = name.clone();
    let mut type_word: Option<String> = n.type_word.map(str::to_string);
    if let Some(t) = n.type_word {
        if let Some(syn) = synonyms_of(t) {
            if chance(rng, rates.synonym) {
                type_word = syn.choose(rng).map(|s| s.to_string());
                d.synonym = true;
            }
        }
        if !n.proper.is_empty() && chance(rng, rates.word_order) {
            n.proper_first = !n.proper_first;
            d.word_order = true;
        }
    }
    let mut s = n.render_with(type_word.as_deref());
    if let Some(p) = generic_parent {
        if chance(rng, rates.generic_parent_prefix) {
            s = if rng.gen_bool(0.5) { format!("{p}, {}", s.to_lowercase()) } else { format!("{p} {s}") };
            d.parent_prefix = true;
        }
    }
    if chance(rng, rates.abbreviation) {
        if let Some(t) = abbreviate(&s) {
            s = t;
            d.abbreviation = true;
        }
    }
    if chance(rng, rates.municipality_suffix) {
        s = match rng.gen_range(0..4) {
            0 => format!("{s} - {official}"),
            1 => format!("{s}, {official}"),
            2 => format!("{s} ({kommune})"),
            _ => format!("{official}, {s}"),
        };
        d.municipality_suffix = true;
    }
    if has_danish_letters(&s) && chance(rng, rates.ascii_letters) {
        s = ascii_fold(&s);
        d.ascii_letters = true;
    }
    if chance(rng, rates.case) {
        s = match rng.gen_range(0..3) {
            0 => s.to_uppercase(),
            1 => s.to_lowercase(),
            _ => sentence_case(&s),
        };
        d.case = true;
    }
    if chance(rng, rates.typo) {
        if let Some(t) = typo(rng, &s) {
            s = t;
            d.typo = true;
        }
    }
    (truncate_chars(&s, 60), d)
}

/// Replaces the first word that has a known abbreviation.
pub fn abbreviate(s: &str) -> Option<String> {
    let words: Vec<&str> = s.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if let Some((_, a)) = ABBREVIATIONS.iter().find(|(full, _)| full == w) {
            let mut out: Vec<&str> = words.clone();
            out[i] = a;
            return Some(out.join(" "));
        }
    }
    None
}

/// "Plejecenter Solgården" -> "Plejecenter solgården".
pub fn sentence_case(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, c) in s.chars().enumerate() {
        if i == 0 {
            out.extend(c.to_uppercase());
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// One typing error: two neighbouring letters swapped, a letter dropped or doubled.
pub fn typo<R: Rng>(rng: &mut R, s: &str) -> Option<String> {
    let chars: Vec<char> = s.chars().collect();
    let letters: Vec<usize> = (1..chars.len().saturating_sub(1)).filter(|&i| chars[i].is_alphabetic()).collect();
    let &i = letters.choose(rng)?;
    let mut c = chars.clone();
    match rng.gen_range(0..3) {
        0 if c[i + 1].is_alphabetic() && c[i] != c[i + 1] => c.swap(i, i + 1),
        1 => {
            c.remove(i);
        }
        _ => c.insert(i, chars[i]),
    }
    let out: String = c.into_iter().collect();
    (out != s).then_some(out)
}

pub fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max).collect::<String>().trim_end().to_string()
    }
}

/// A deck of distinct place names ("Solgården", "Egebakken", ...), shuffled once per municipality.
pub struct PlaceNames {
    names: Vec<String>,
    next: usize,
}

impl PlaceNames {
    pub fn shuffled<R: Rng>(rng: &mut R) -> Self {
        let mut names = Vec::with_capacity(PLACE_PREFIXES.len() * PLACE_SUFFIXES.len());
        for p in PLACE_PREFIXES {
            for s in PLACE_SUFFIXES {
                names.push(format!("{p}{s}"));
            }
        }
        names.shuffle(rng);
        PlaceNames { names, next: 0 }
    }

    /// The next unused name; after all are used, names get a number ("Solgården 2").
    pub fn take(&mut self) -> String {
        let n = self.names.len().max(1);
        let round = self.next / n;
        let base = self.names.get(self.next % n).cloned().unwrap_or_else(|| "Centret".to_string());
        self.next += 1;
        if round == 0 {
            base
        } else {
            format!("{base} {}", round + 1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn danish_letters_fold_to_two_letters() {
        assert_eq!(ascii_fold("Ældrecenter Søbo på Åhøj"), "Aeldrecenter Soebo paa Aahoej");
    }

    #[test]
    fn abbreviations_replace_one_whole_word() {
        assert_eq!(abbreviate("Plejecenter Solgården").as_deref(), Some("Plejectr. Solgården"));
        assert_eq!(abbreviate("Solgården"), None);
    }

    #[test]
    fn a_typo_changes_the_name_a_little() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..50 {
            let t = typo(&mut rng, "Plejecenter Solgården").unwrap();
            assert_ne!(t, "Plejecenter Solgården");
            assert!(t.chars().count().abs_diff(21) <= 1);
        }
    }
}
