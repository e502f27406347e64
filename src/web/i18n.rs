//! The interface text: a message catalogue of key -> (Danish, English). Danish is the default;
//! the language comes from `?lang=`, the `lang` cookie or Accept-Language.

/// The interface language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Da,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Lang> {
        match s.to_ascii_lowercase().as_str() {
            "da" => Some(Lang::Da),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Da => "da",
            Lang::En => "en",
        }
    }

    /// The text for `key`; the key itself when the catalogue lacks it (a unit test checks that
    /// every key the pages use is there).
    pub fn t(self, key: &'static str) -> &'static str {
        match CATALOGUE.iter().find(|(k, _, _)| *k == key) {
            Some((_, da, en)) => match self {
                Lang::Da => da,
                Lang::En => en,
            },
            None => key,
        }
    }
}

/// key, Danish, English.
pub const CATALOGUE: &[(&str, &str, &str)] = &[
    ("app_title", "sorsync – SOR og FK-ORG i takt", "sorsync – SOR and FK-ORG in step"),
    ("sign_in", "Log ind", "Sign in"),
    ("sign_out", "Log ud", "Sign out"),
    ("user_name", "Brugernavn", "User name"),
    ("password", "Adgangskode", "Password"),
    ("signed_in_as", "Logget ind som", "Signed in as"),
    ("your_municipalities", "Dine kommuner", "Your municipalities"),
    (
        "no_municipalities",
        "Du har ingen roller endnu. Bed en SOR-administrator om adgang.",
        "You hold no roles yet. Ask a SOR administrator for access.",
    ),
    ("municipality", "Kommune", "Municipality"),
    ("roles", "Roller", "Roles"),
    ("overview", "Overblik", "Overview"),
    ("queue", "Gennemgang", "Review queue"),
    ("whatif", "Hvad nu hvis", "What if"),
    ("contacts", "Kontaktdata", "Contact numbers"),
    ("fk_units", "FK-ORG-enheder", "FK-ORG units"),
    ("sor_units", "SOR-enheder", "SOR units"),
    ("links", "Godkendte koblinger", "Approved links"),
    ("coverage", "Dækning", "Coverage"),
    ("open_by_kind", "Åbne forslag efter slags", "Open proposals by kind"),
    ("last_runs", "Seneste kørsler", "Last runs"),
    ("recorded_at", "Tidspunkt", "Recorded at"),
    ("proposals", "Forslag", "Proposals"),
    ("no_data", "Ingen data importeret for kommunen endnu.", "No data imported for this municipality yet."),
    ("none", "Ingen.", "None."),
    ("reviewed_of", "gennemgået", "reviewed"),
    ("of", "af", "of"),
    ("kind", "Slags", "Kind"),
    ("confidence", "Sikkerhed", "Confidence"),
    ("band", "Sikkerhedsniveau", "Confidence band"),
    ("band_high", "Høj (≥ 0,9)", "High (≥ 0.9)"),
    ("band_medium", "Middel (0,7–0,9)", "Medium (0.7–0.9)"),
    ("band_low", "Lav (< 0,7)", "Low (< 0.7)"),
    ("all", "Alle", "All"),
    ("subtree", "Under enhed (FK-ORG uuid)", "Under unit (FK-ORG uuid)"),
    ("filter", "Filtrér", "Filter"),
    ("fk_unit", "FK-ORG-enhed", "FK-ORG unit"),
    ("sor_unit", "SOR-enhed", "SOR unit"),
    ("approve", "Godkend", "Approve"),
    ("reject", "Afvis", "Reject"),
    ("open", "Åbn", "Open"),
    (
        "keyboard_help",
        "Tastatur: j/k flyt, a godkend, r afvis, o åbn.",
        "Keyboard: j/k move, a approve, r reject, o open.",
    ),
    ("bulk_approve", "Godkend alle koblinger med sikkerhed mindst", "Approve all links with confidence at least"),
    ("bulk_confirm_title", "Bekræft godkendelse", "Confirm approval"),
    ("bulk_will_approve", "Disse forslag bliver godkendt", "These proposals will be approved"),
    ("bulk_count", "Antal", "Count"),
    ("confirm", "Bekræft", "Confirm"),
    ("cancel", "Fortryd", "Cancel"),
    ("approved_n", "Godkendt", "Approved"),
    ("page", "Side", "Page"),
    ("previous", "Forrige", "Previous"),
    ("next", "Næste", "Next"),
    ("proposal", "Forslag", "Proposal"),
    ("status", "Status", "Status"),
    ("field", "Felt", "Field"),
    ("name", "Navn", "Name"),
    ("address", "Adresse", "Address"),
    ("phone", "Telefon", "Phone"),
    ("email", "E-mail", "Email"),
    ("ean", "EAN", "EAN"),
    ("explanation", "Forklaring", "Explanation"),
    ("alternatives", "Alternativer", "Alternatives"),
    ("changes", "Ændringer", "Changes"),
    ("consequences", "Konsekvenser i SOR", "Consequences in SOR"),
    ("warnings", "Advarsler", "Warnings"),
    ("reason", "Begrundelse (valgfri)", "Reason (optional)"),
    ("not_pending", "Forslaget er allerede afgjort.", "The proposal has been decided already."),
    ("search_unit", "Søg enhed efter navn", "Search a unit by name"),
    ("search", "Søg", "Search"),
    ("chosen_unit", "Valgt enhed", "Chosen unit"),
    ("action", "Handling", "Action"),
    ("act_close", "Nedlæg", "Close"),
    ("act_create", "Opret underenhed", "Create a unit below"),
    ("act_move", "Flyt", "Move"),
    ("act_rename", "Omdøb", "Rename"),
    ("new_name", "Nyt navn", "New name"),
    ("under", "Placér under (søg efter navn)", "Place under (search by name)"),
    ("under_chosen", "Ny overordnet enhed", "New parent unit"),
    ("date", "Dato", "Date"),
    ("show_preview", "Vis konsekvenser", "Show consequences"),
    ("role_holders", "Rolleindehavere", "Role holders"),
    ("missing_both", "Uden direkte nummer og mobil", "Without direct and mobile number"),
    ("units_without_phone", "Enheder uden telefon", "Units without a phone"),
    ("units_in_scope", "Enheder i omfang", "Units in scope"),
    ("path", "Placering", "Path"),
    ("error", "Fejl", "Error"),
    ("back", "Tilbage", "Back"),
    ("language", "English", "Dansk"),
    ("audit", "Revisionslog", "Audit log"),
    ("waves", "Bølger", "Waves"),
    ("wave", "Bølge", "Wave"),
    ("wave_report", "Bølgerapport", "Wave report"),
    (
        "no_wave_plan",
        "Der er ingen bølgeplan endnu (sorsync waves load PLAN.toml).",
        "There is no wave plan yet (sorsync waves load PLAN.toml).",
    ),
    ("missing_readiness", "Mangler før start", "Missing before start"),
    ("applied", "Gennemført i SOR", "Applied in SOR"),
    ("actor", "Udført af", "Actor"),
    ("from", "Fra", "From"),
    ("to", "Til", "To"),
    ("entries", "poster", "entries"),
    ("detail", "Detaljer", "Detail"),
    ("pick_this", "Vælg denne", "Pick this one"),
    ("create_new", "Opret ny i SOR", "Create new in SOR"),
    ("no_match", "Intet match", "No match"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_the_pages_use_is_in_the_catalogue_in_both_languages() {
        let source = include_str!("pages.rs");
        let mut missing = Vec::new();
        for part in source.split(".t(\"").skip(1) {
            let key = part.split('"').next().unwrap_or("");
            if !CATALOGUE.iter().any(|(k, _, _)| *k == key) {
                missing.push(key.to_string());
            }
        }
        assert!(missing.is_empty(), "keys missing from the catalogue: {missing:?}");
        for (k, da, en) in CATALOGUE {
            assert!(!da.is_empty() && !en.is_empty(), "{k} lacks a text");
            assert_eq!(CATALOGUE.iter().filter(|(k2, _, _)| k2 == k).count(), 1, "{k} is listed twice");
        }
    }

    #[test]
    fn danish_is_the_default_and_english_is_available() {
        assert_eq!(Lang::default().t("approve"), "Godkend");
        assert_eq!(Lang::En.t("approve"), "Approve");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
    }
}
