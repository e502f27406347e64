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

    /// A code's text from the catalogue under `prefix` + code (`kind_link`), else the code itself.
    pub fn coded<'a>(self, prefix: &str, code: &'a str) -> &'a str {
        let key = format!("{prefix}{code}");
        match self.text(&key) {
            Some(t) => t,
            None => code,
        }
    }

    /// A proposal kind (`link`, `write_back`, ...) in words.
    pub fn kind(self, kind: &str) -> &str {
        self.coded("kind_", kind)
    }

    /// A proposal status (`pending`, ...) in words.
    pub fn status(self, status: &str) -> &str {
        self.coded("status_", status)
    }

    /// A role (`sor_admin`, ...) in words.
    pub fn role(self, role: &str) -> &str {
        self.coded("role_", role)
    }

    /// A preview message (warning, reason of a change, the drawing's words) in this language.
    pub fn say(self, t: &crate::preview::Text) -> String {
        match self {
            Lang::Da => t.render(&|c| PREVIEW_DA.iter().find(|(k, _)| *k == c).map(|(_, v)| *v), "%-d.%-m.%Y"),
            Lang::En => t.english(),
        }
    }

    /// A stored timestamp (RFC 3339, UTC) as local time in Copenhagen: "3.12.2026 kl. 14.05" /
    /// "3 Dec 2026, 14:05". Anything unreadable is shown as it is.
    pub fn when(self, at: &str) -> String {
        let Ok(t) = chrono::DateTime::parse_from_rfc3339(at.trim()) else {
            return match chrono::NaiveDateTime::parse_from_str(at.trim(), "%Y-%m-%d %H:%M:%S%.f") {
                Ok(n) => self.when(&format!("{}Z", n.format("%Y-%m-%dT%H:%M:%S"))),
                Err(_) => at.to_string(),
            };
        };
        let local = copenhagen(t.with_timezone(&chrono::Utc));
        match self {
            Lang::Da => local.format("%-d.%-m.%Y kl. %H.%M").to_string(),
            Lang::En => local.format("%-d %b %Y, %H:%M").to_string(),
        }
    }

    /// A day: "3.12.2026" / "3 Dec 2026".
    pub fn day(self, d: chrono::NaiveDate) -> String {
        match self {
            Lang::Da => d.format("%-d.%-m.%Y").to_string(),
            Lang::En => d.format("%-d %b %Y").to_string(),
        }
    }
}

/// UTC to Copenhagen's wall-clock time: CET (+1), CEST (+2) from the last Sunday of March 01:00
/// UTC to the last Sunday of October 01:00 UTC (the EU rule).
pub fn copenhagen(t: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDateTime {
    use chrono::Datelike;
    let year = t.year();
    let last_sunday = |month: u32| {
        let mut d = chrono::NaiveDate::from_ymd_opt(year, month, 31).unwrap_or_default();
        while d.weekday() != chrono::Weekday::Sun {
            d = d.pred_opt().unwrap_or(d);
        }
        d.and_hms_opt(1, 0, 0).unwrap_or_default()
    };
    let n = t.naive_utc();
    let summer = n >= last_sunday(3) && n < last_sunday(10);
    n + chrono::Duration::hours(if summer { 2 } else { 1 })
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
    ("kind_close", "Nedlæggelse", "Closure"),
    ("kind_move", "Flytning", "Move"),
    ("kind_create", "Oprettelse", "Creation"),
    ("kind_update", "Opdatering", "Update"),
    ("kind_link", "Kobling", "Link"),
    ("kind_write_back", "SOR-ID til FK-ORG", "SOR-ID to FK-ORG"),
    ("status_pending", "Afventer", "Pending"),
    ("status_approved", "Godkendt", "Approved"),
    ("status_rejected", "Afvist", "Rejected"),
    ("status_superseded", "Erstattet af nyere forslag", "Superseded"),
    ("status_applying", "Sendes til SOR", "Being applied"),
    ("status_applied", "Gennemført", "Applied"),
    ("status_failed", "Fejlet", "Failed"),
    ("role_sor_admin", "SOR-administrator", "SOR administrator"),
    ("role_org_admin", "Organisationsadministrator", "Organisation administrator"),
    ("role_operator", "Driftsansvarlig", "Operator"),
    ("role_read_only", "Kun læseadgang", "Read only"),
    ("ready_sor_admin", "SOR-administrator udpeget", "SOR administrator named"),
    ("ready_org_admin", "Organisationsadministrator udpeget", "Organisation administrator named"),
    ("ready_service_agreement", "Serviceaftale godkendt", "Service agreement approved"),
    ("ready_scope", "Omfang valgt", "Scope chosen"),
    ("ready_first_review", "Første gennemgang udført af en person", "First review done by a person"),
    ("readiness", "Klar", "Readiness"),
    ("wstatus_planned", "Planlagt", "Planned"),
    ("wstatus_preparing", "Forberedes", "Preparing"),
    ("wstatus_ready", "Klar", "Ready"),
    ("wstatus_pilot", "Pilot", "Pilot"),
    ("wstatus_live", "I drift", "Live"),
    ("wstatus_paused", "Sat på pause", "Paused"),
    ("outcome_ok", "OK", "OK"),
    ("outcome_needs_attention", "Kræver opmærksomhed", "Needs attention"),
    ("outcome_failed", "Fejlet", "Failed"),
    ("outcome_skipped", "Sprunget over", "Skipped"),
    ("municipalities_n", "kommuner", "municipalities"),
    ("one_municipality", "kommune", "municipality"),
    ("warn_parent_not_linked", "Overordnet enhed ikke koblet", "Parent not linked"),
    ("warn_unit_not_linked", "Enheden er ikke koblet", "Unit not linked"),
    ("warn_broken_link", "Brudt kobling", "Broken link"),
    ("warn_own_ean", "Eget EAN-nummer", "Own EAN number"),
    ("warn_inherited_values", "Nedarvede værdier ændres", "Inherited values change"),
    ("warn_across_institutions", "Flytning mellem institutioner", "Move between institutions"),
    ("warn_structure", "SOR-strukturen", "SOR structure"),
    ("warn_counterpart_stays_open", "Modpart forbliver åben", "Counterpart stays open"),
    ("warn_unlinked_closes_along", "Ukoblet enhed nedlægges med", "Unlinked unit closes along"),
    ("warn_no_effect", "Ingen virkning", "No effect"),
    ("warn_long_ago", "Dato langt tilbage", "Date long ago"),
    ("warn_closure_limit", "Grænse for nedlæggelser", "Closure limit"),
    ("long_ago", "Datoen ligger mere end et år tilbage: er den rigtig?", "The date is more than a year back: is it right?"),
    ("closure_limit", "Ændringen nedlægger flere SOR-enheder, end der må nedlægges på én dag; gennemførelsen stopper ved grænsen, medmindre enhederne nævnes udtrykkeligt.", "The change closes more SOR units than may be closed in one day; applying stops at the limit unless the units are named explicitly."),
    ("nothing_in_sor", "Intet oprettes i SOR: den overordnede enhed er ikke koblet til SOR.", "Nothing is created in SOR: the parent unit is not linked to SOR."),
    ("act_fk_create", "Oprettes", "Created"),
    ("act_sor_create", "Oprettes", "Created"),
    ("act_sor_update", "Ændres", "Changed"),
    ("act_sor_close", "Nedlægges", "Closed"),
    ("act_sor_move", "Flyttes", "Moved"),
    ("more_n", "flere", "more"),
    ("show_all", "Vis alle", "Show all"),
    ("open_more", "Vis et niveau mere af træerne (åbner \"… flere\")", "Show one more level of the trees (opens \"… more\")"),
    ("open_less", "Vis et niveau mindre", "Show one level less"),
    ("role", "Rolle", "Role"),
    ("download_csv", "Hent som CSV", "Download as CSV"),
    ("download_xlsx", "Hent som Excel (XLSX)", "Download as Excel (XLSX)"),
    ("no_units_without_phone", "Alle enheder har et telefonnummer.", "Every unit has a phone number."),
    ("before", "Før", "Before"),
    ("after", "Efter", "After"),
    ("unit", "Enhed", "Unit"),
    ("auto", "automatisk", "automatic"),
    ("page_beyond", "Siden findes ikke; her er den sidste side.", "That page does not exist; this is the last one."),
    ("date_today", "Tom dato: i dag", "Empty date: today"),
    ("bad_date", "Datoen skal skrives som ÅÅÅÅ-MM-DD.", "Write the date as YYYY-MM-DD."),
    ("fill_in", "Udfyld navnet eller vælg den nye overordnede enhed.", "Fill in the name or choose the new parent unit."),
    ("unknown_unit", "Enheden findes ikke i FK-ORG; søg efter den med navn.", "The unit is not in FK-ORG; search for it by name."),
    ("choose_one", "Flere enheder passer; vælg én:", "Several units match; choose one:"),
    ("subtree_name", "Under enhed (navn)", "Under unit (name)"),
    ("err_sign_in", "Log ind først.", "Sign in first."),
    ("err_forbidden", "Du har ikke adgang til dette.", "You do not have access to this."),
    ("err_csrf", "Formularen kom ikke fra denne side. Genindlæs siden og prøv igen.", "The form was not sent from this app. Reload the page and try again."),
    ("err_not_found", "Det, du leder efter, findes ikke (længere): måske har en nyere kørsel erstattet det.", "Not found"),
    ("err_bad_request", "Forespørgslen kan ikke bruges", "The request cannot be used"),
    ("err_conflict", "Sagen er ændret imens, så handlingen kan ikke udføres", "The case changed meanwhile, so this cannot be done"),
    ("err_rate_limited", "For mange forkerte forsøg: vent 15 minutter og prøv igen.", "Too many failed sign-ins: wait 15 minutes and try again."),
    ("err_bad_login", "Forkert brugernavn eller adgangskode.", "Wrong user name or password."),
    ("err_internal", "Noget gik galt; fejlen står i serverens log.", "Something went wrong; the error is in the server log."),
    ("err_details", "Detaljer", "Details"),
    ("home", "Forside", "Home"),
    ("fk_snapshot", "FK-ORG-øjebliksbillede", "FK-ORG snapshot"),
    ("sor_snapshot", "SOR-øjebliksbillede", "SOR snapshot"),
    ("keyboard_help_read", "Tastatur: j/k flyt, o åbn.", "Keyboard: j/k move, o open."),
    ("old_place", "Nuværende placering", "Current place"),
    ("new_place", "Ny placering", "New place"),
    ("audit_approve", "Godkendt", "Approved"),
    ("audit_auto_approve", "Godkendt automatisk", "Approved automatically"),
    ("audit_reject", "Afvist", "Rejected"),
    ("audit_no_match", "Intet match", "No match"),
    ("audit_create_new", "Opret ny", "Create new"),
    ("audit_choose_alternative", "Anden kandidat valgt", "Other candidate chosen"),
    ("audit_link_by_hand", "Koblet i hånden", "Linked by hand"),
    ("audit_close_sor_only", "SOR-enhed nedlagt", "SOR unit closed"),
    ("audit_undo", "Fortrudt", "Undone"),
    ("audit_grant_role", "Rolle tildelt", "Role granted"),
    ("audit_revoke_role", "Rolle frataget", "Role revoked"),
    ("audit_write", "Skrevet til SOR", "Written to SOR"),
    ("audit_write_failed", "Skrivning fejlede", "Write failed"),
    ("audit_write_found", "Fundet i SOR", "Found in SOR"),
    ("audit_quarantined", "Sat i karantæne", "Quarantined"),
    ("audit_allow_closures", "Nedlæggelser tilladt", "Closures allowed"),
    ("audit_sending", "Sendes", "Sending"),
    ("unknown_kind", "Ukendt slags forslag; filtret er udeladt", "Unknown kind of proposal; left out of the filter"),
    ("unknown_band", "Ukendt sikkerhedsniveau; filtret er udeladt", "Unknown confidence band; left out of the filter"),
    ("unknown_action", "Ukendt handling", "Unknown action"),
    ("preview_failed", "Konsekvenserne kunne ikke beregnes for denne ændring.", "The consequences of this change could not be worked out."),
    ("detail_bulk_approval", "samlet godkendelse", "bulk approval"),
    ("state_superseded", "Erstattet", "Superseded"),
    ("state_applying", "Sendes til SOR", "Being applied"),
    ("state_sending", "Sendes", "Sending"),
    ("state_done", "Gennemført", "Done"),
    ("state_applied", "Gennemført", "Applied"),
    ("state_failed", "Fejlet", "Failed"),
    ("state_quarantined", "I karantæne", "Quarantined"),
    ("state_pending", "Afventer", "Pending"),
    ("state_approved", "Godkendt", "Approved"),
    ("state_rejected", "Afvist", "Rejected"),
    ("why_children_linked_elsewhere", "underenhederne er koblet til andre", "sub-units linked to other units"),
];

/// The preview's messages in Danish (the English templates are `crate::preview::ENGLISH`).
pub const PREVIEW_DA: &[(&str, &str)] = &[
    ("linked_to_missing", "FK-ORG-enheden {fk} er koblet til SOR-ID {sor_id}, som ikke findes i SOR"),
    ("linked_to_closed", "FK-ORG-enheden {fk} er koblet til SOR-enheden {sor}, som er nedlagt"),
    ("linked_to_closed_id", "FK-ORG-enheden {fk} er koblet til SOR-enheden {sor} ({sor_id}), som er nedlagt"),
    ("create_proposed", "FK-ORG-enheden {fk} har ingen modpart i SOR; dens overordnede {parent} er koblet til {sor}{placement}"),
    ("field_change", "{field}: {from} → {to}"),
    ("fields_changed", "{changes}"),
    ("fk_closed", "FK-ORG-enheden {fk} er nedlagt"),
    ("fk_other_parent", "FK-ORG-enheden {fk} har en anden overordnet end dens SOR-enhed"),
    ("field_name", "navn"),
    ("field_address", "adresse"),
    ("field_phone", "telefon"),
    ("field_email", "e-mail"),
    ("field_other", "andet"),
    ("field_ean", "EAN"),
    ("field_postal_address", "postadresse"),
    ("field_phone_number", "telefonnummer"),
    ("names", "{names}"),
    ("names_and_more", "{names} og {more} flere"),
    ("link_first", "kobl {fk} til sin SOR-enhed først (eller opret den i SOR){ancestor}"),
    ("nearest_linked", "nærmeste koblede overordnede er {fk} (SOR {sor}, {sor_id})"),
    ("no_ancestor_linked", "ingen af de overordnede enheder er koblet heller"),
    ("placement_institution", "sundhedsinstitution {sor}"),
    ("placement_owner", "institutionsejer {sor}"),
    ("created_under_closed", "{name} oprettes under {under}, som er nedlagt"),
    ("cannot_place", "{name} kan ikke placeres i SOR: FK-ORG-enheden {under} over den har ingen modpart i SOR; {advice}"),
    ("not_placed_until_linked", "oprettes i FK-ORG under {under}; placeres ikke i SOR, før {under} er koblet"),
    ("under_owner_create", "{name} ville komme direkte under institutionsejeren {owner}: i SOR skal den dér være en sundhedsinstitution, ikke en organisatorisk enhed"),
    ("created_under", "oprettes i FK-ORG under {under}; i SOR under {sor}{placement}{values}"),
    ("own_value", "egen {field} {value}"),
    ("inherits_value", "arver {field} {value}"),
    ("already_closed", "FK-ORG-enheden {fk} er allerede nedlagt"),
    ("closes_on", "FK-ORG-enheden {fk} nedlægges {date}"),
    ("closes_on_with", "FK-ORG-enheden {fk} nedlægges {date} sammen med {top}"),
    ("nothing_closes", "FK-ORG-enheden {fk} og enhederne under den har ingen modpart i SOR: intet nedlægges i SOR"),
    ("below_closes", "under {top}, som nedlægges"),
    ("own_ean_closes", "{sor} har sit eget EAN {ean}: beskeder til den (fx udskrivningsbreve) bliver ikke længere leveret"),
    ("counterpart_stays_open", "{sor} nedlægges med {top}, men dens FK-ORG-modpart {fk} forbliver åben og står uden SOR-enhed"),
    ("unlinked_closes_along", "{sor} har ingen modpart i FK-ORG og nedlægges sammen med {top}"),
    ("already_under", "{fk} ligger allerede under {under}"),
    ("nothing_moves", "{fk} har ingen modpart i SOR, så intet flyttes i SOR; {advice}"),
    ("cannot_move_parent", "{fk} kan ikke flyttes i SOR: den nye overordnede FK-ORG-enhed {under} har ingen modpart i SOR; {advice}"),
    ("moved_in_fk", "flyttet i FK-ORG fra {from} til {under}"),
    ("nothing_parent", "ingenting"),
    ("already_under_sor", "{sor} ligger allerede under {under} i SOR"),
    ("cannot_move_below", "{sor} kan ikke flyttes under {under} i SOR: den enhed ligger under den dér"),
    ("under_owner_move", "{sor} ville komme direkte under institutionsejeren {owner}; SOR placerer organisatoriske enheder under en sundhedsinstitution"),
    ("across_institutions", "{sor} flyttes fra sundhedsinstitution {before} til {after}: SOR tillader måske ikke flytning mellem sundhedsinstitutioner; den skal måske nedlægges og oprettes igen med et nyt SOR-ID"),
    ("across_owners", "{sor} flyttes fra institutionsejer {before} til {after}: SOR tillader måske ikke flytning mellem institutionsejere; den skal måske nedlægges og oprettes igen med et nyt SOR-ID"),
    ("none_value", "ingen"),
    ("quoted", "{value}"),
    ("own_ean_moves", "{sor} har sit eget EAN {ean}: kontrollér, at beskeder følger med flytningen{below}"),
    ("units_use_ean", " ({n} enheder under den bruger dette EAN: {names})"),
    ("move_changes_inherited", "flytning af {sor} ændrer den nedarvede {field} fra {before} til {after} for {n} enhed(er): {names}"),
    ("change_changes_inherited", "ændring af {field} for {sor} ændrer den også for {n} enhed(er), der arver den: {names}"),
    ("rename_unlinked", "{fk} har ingen modpart i SOR: omdøbning ændrer intet i SOR"),
    ("already_named", "{sor} hedder allerede sådan i SOR"),
    ("renamed", "omdøbt i FK-ORG; SOR-navnet {sor} bliver til {name}"),
    ("more_rows", "… {n} flere"),
    ("note_new", "ny"),
    ("note_closes", "nedlægges"),
    ("note_moves_under", "flyttes under {to}"),
    ("note_moved_here_from", "flyttet hertil fra {from}"),
    ("note_moved_here", "flyttet hertil"),
    ("note_becomes", "bliver til {name}"),
    ("note_new_in_sor", "ny i SOR"),
    ("legend_new", "ny"),
    ("legend_closed", "nedlagt"),
    ("legend_changed", "ændret"),
    ("legend_moved_from", "flyttes herfra"),
    ("legend_moved_to", "flyttes hertil"),
    ("summary", "{create} oprettes, {update} ændres, {close} nedlægges, {moves} flyttes"),
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
    fn every_preview_message_has_a_danish_template() {
        for (code, _) in crate::preview::ENGLISH {
            assert!(PREVIEW_DA.iter().any(|(c, _)| c == code), "{code} has no Danish template");
        }
    }

    #[test]
    fn timestamps_are_shown_in_copenhagen_time() {
        assert_eq!(Lang::Da.when("2026-12-03T13:05:09.123Z"), "3.12.2026 kl. 14.05");
        assert_eq!(Lang::Da.when("2026-07-01T10:00:00Z"), "1.7.2026 kl. 12.00");
        assert_eq!(Lang::En.when("2026-12-03T13:05:09.123+00:00"), "3 Dec 2026, 14:05");
    }

    #[test]
    fn danish_is_the_default_and_english_is_available() {
        assert_eq!(Lang::default().t("approve"), "Godkend");
        assert_eq!(Lang::En.t("approve"), "Approve");
        assert_eq!(Lang::parse("EN"), Some(Lang::En));
    }
}
