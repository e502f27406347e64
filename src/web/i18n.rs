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

    /// The text for a key known only at run time (from view data), if the catalogue has it.
    pub fn text(self, key: &str) -> Option<&'static str> {
        CATALOGUE.iter().find(|(k, _, _)| *k == key).map(|(_, da, en)| match self {
            Lang::Da => *da,
            Lang::En => *en,
        })
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
    ("sign_in_saml", "Log ind med Fælleskommunal Adgangsstyring", "Sign in with Fælleskommunal Adgangsstyring"),
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
        "Tastatur: j/k flyt, a godkend, r afvis / ikke i SOR, n opret ny, 1–3 vælg kandidat, u fortryd sidste, o åbn.",
        "Keyboard: j/k move, a approve, r reject / not in SOR, n create new, 1–3 pick a runner-up, u undo the last, o open.",
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
    ("case", "Sag", "Case"),
    ("in_fkorg", "I FK-ORG", "In FK-ORG"),
    ("in_sor", "I SOR", "In SOR"),
    ("proposed", "Forslag", "Proposed"),
    ("linked_to", "Koblet til", "Linked to"),
    ("is_linked_to", "Afgjort: koblet til", "Decided: linked to"),
    ("new_under", "Ny i SOR under", "New in SOR under"),
    ("follow_ups", "Det følger", "What follows"),
    ("not_in_sor", "Ikke i SOR", "Not in SOR"),
    ("new_key", "Opret ny", "Create new"),
    ("undo_last", "Fortryd sidste beslutning", "Undo the last decision"),
    ("undone", "Fortrudt: forslaget venter igen.", "Undone: the proposal waits again."),
    ("nothing_to_undo", "Der er ingen beslutning at fortryde.", "There is no decision to undo."),
    ("undo_sent", "Kan ikke fortrydes: ændringen er allerede sendt.", "Cannot be undone: the change was sent already."),
    ("undo_replaced", "Kan ikke fortrydes: en senere kørsel har erstattet forslaget.", "Cannot be undone: a later run replaced the proposal."),
    ("undo_by_hand", "Kan ikke fortrydes her: afgør sagen igen.", "Cannot be undone here: decide the case again."),
    ("decided_case", "Afgjort", "Decided"),
    ("queue_empty", "Ingen sager venter.", "No cases wait."),
    ("parent", "Overordnet enhed", "Parent unit"),
    ("field_parent", "Placering", "Place"),
    ("field_closed", "Nedlægges", "Closes"),
    ("field_sor_id", "SOR-ID i FK-ORG", "SOR-ID in FK-ORG"),
    ("why_link", "Hvorfor vi tror, det er samme enhed", "Why we think it is the same unit"),
    ("adds_up_to", "I alt: sikkerhed", "Total: confidence"),
    ("points", "procentpoint", "percentage points"),
    ("strong_for", "stærkt for", "strong evidence for"),
    ("some_for", "taler for", "some evidence for"),
    ("some_against", "taler imod", "some evidence against"),
    ("strong_against", "stærkt imod", "strong evidence against"),
    ("same_kind_of_unit", "er samme slags enhed", "are the same kind of unit"),
    ("and", "og", "and"),
    ("why_sor_id_recorded", "SOR-ID'et står allerede på FK-ORG-enheden", "the SOR-ID is recorded on the FK-ORG unit"),
    ("why_same_name_unique", "samme navn, og ingen anden enhed hedder sådan", "same name, and no other unit is called so"),
    ("why_same_name_shared", "samme navn (som andre enheder også har)", "same name (other units share it)"),
    ("why_nearly_same_name", "næsten samme navn", "nearly the same name"),
    ("why_similar_name", "lignende navn", "similar name"),
    ("why_partly_similar_name", "delvist ens navn", "partly similar name"),
    ("why_different_name", "forskelligt navn", "different name"),
    ("why_same_address", "samme adresse", "same address"),
    ("why_same_street", "samme vej og postnummer", "same street and postcode"),
    ("why_same_postcode", "samme postnummer", "same postcode"),
    ("why_different_address", "forskellig adresse", "different address"),
    ("why_same_phone", "samme telefonnummer", "same phone number"),
    ("why_different_phone", "forskelligt telefonnummer", "different phone number"),
    ("why_same_email", "samme e-mail", "same email"),
    ("why_different_email", "forskellig e-mail", "different email"),
    ("why_same_ean", "samme EAN-nummer", "same EAN number"),
    ("why_different_ean", "forskelligt EAN-nummer", "different EAN number"),
    ("why_parents_linked", "de overordnede enheder er allerede koblet", "parents already linked"),
    ("why_parents_linked_elsewhere", "de overordnede enheder er koblet til andre", "parents linked to other units"),
    ("why_parents_not_linked", "de overordnede enheder er ikke koblet endnu", "parents not linked yet"),
    ("why_most_children_linked", "de fleste underenheder er koblet til hinanden", "most sub-units already linked to each other"),
    ("why_some_children_linked", "nogle underenheder er koblet til hinanden", "some sub-units linked to each other"),
    ("why_children_linked_elsewhere", "underenhederne er koblet til andre", "sub-units linked to other units"),
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
