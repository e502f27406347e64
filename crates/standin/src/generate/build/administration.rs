//! The administration side of a generated municipality: directorates and units that exist only in
//! FK-ORG (schools, daycare, job centre, technical services...), filling the tree to its target size.

use rand::Rng;

use super::*;

impl Builder<'_> {
    pub(super) fn admin(&mut self, parent: &Node, name: &str, kind: UnitKind) -> Node {
        self.fk_only(parent, name, kind, false)
    }

    pub(super) fn admin_fill(&mut self, dirs: &AdminDirs, target: usize) {
        let mut i = 0usize;
        while self.fk.len() < target && i < target * 2 {
            let roll: f64 = self.rng.gen();
            if roll < 0.22 {
                let name = if self.rng.gen_bool(0.5) {
                    format!("{}skolen", pick(&mut self.rng, names::PLACE_PREFIXES))
                } else {
                    format!("{} Skole", pick(&mut self.rng, names::TOWNS))
                };
                let s = self.admin(&dirs.schools, &name, UnitKind::School);
                for c in ["Indskoling", "Mellemtrin", "Udskoling", "SFO"] {
                    self.admin(&s, c, UnitKind::School);
                }
                if chance(&mut self.rng, 0.3) {
                    self.admin(&s, "Skolens administration", UnitKind::School);
                }
            } else if roll < 0.50 {
                if chance(&mut self.rng, 0.15) {
                    let d = self.district();
                    self.admin(&dirs.daycare, &format!("Dagplejen {d}"), UnitKind::Daycare);
                } else {
                    let name = format!("Børnehuset {}", self.places.take());
                    let b = self.admin(&dirs.daycare, &name, UnitKind::Daycare);
                    for c in ["Vuggestuen", "Børnehaven"] {
                        self.admin(&b, c, UnitKind::Daycare);
                    }
                }
            } else if roll < 0.60 {
                const TEAMS: &[&str] = &[
                    "Sygedagpenge",
                    "Ungeindsats",
                    "Virksomhedsservice",
                    "Ydelser",
                    "Integration",
                    "Fleksjob",
                    "Ressourceforløb",
                    "Rehabiliteringsteam",
                    "Jobafklaring",
                    "Kontanthjælp",
                ];
                let t = pick(&mut self.rng, TEAMS);
                self.admin(&dirs.jobcentre, &format!("Team {t}"), UnitKind::Admin);
            } else if roll < 0.72 {
                const TECH: &[&str] = &[
                    "Vej og Park",
                    "Byggesag",
                    "Natur og Miljø",
                    "Materielgården",
                    "Affald og Genbrug",
                    "Trafik",
                    "Plan og Udvikling",
                    "Ejendomsservice",
                ];
                let t = pick(&mut self.rng, TECH);
                let d = self.district();
                self.admin(&dirs.technical, &format!("{t} {d}"), UnitKind::Admin);
            } else if roll < 0.80 {
                let name = match self.rng.gen_range(0..4) {
                    0 => format!("Bibliotek {}", pick(&mut self.rng, names::TOWNS)),
                    1 => format!("Kulturhuset {}", self.places.take()),
                    2 => format!("Idrætscenter {}", pick(&mut self.rng, names::TOWNS)),
                    _ => "Musikskolen".to_string(),
                };
                self.admin(&dirs.culture, &name, UnitKind::Admin);
            } else if roll < 0.92 {
                const CENTRAL: &[&str] = &[
                    "Team Løn",
                    "Regnskab",
                    "Budget og Analyse",
                    "HR",
                    "IT-drift",
                    "Indkøb",
                    "Digitalisering",
                    "Jura",
                    "Kommunikation",
                    "Sekretariatet",
                ];
                let t = pick(&mut self.rng, CENTRAL);
                self.admin(&dirs.central, t, UnitKind::Admin);
            } else {
                const FAMILY: &[&str] =
                    &["Plejefamilier", "Familiecentret", "PPR", "Familierådgivningen", "Ungdomsskolen"];
                let t = pick(&mut self.rng, FAMILY);
                self.admin(&dirs.family, t, UnitKind::Admin);
            }
            i += 1;
        }
    }
}

pub(super) struct AdminDirs {
    pub(super) schools: Node,
    pub(super) daycare: Node,
    pub(super) family: Node,
    pub(super) jobcentre: Node,
    pub(super) technical: Node,
    pub(super) culture: Node,
    pub(super) central: Node,
}

pub(super) fn admin_dirs(b: &mut Builder, root: &Node) -> (AdminDirs, Node) {
    let bu = b.admin(root, "Børn og Unge", UnitKind::Directorate);
    let schools = b.admin(&bu, "Skoler", UnitKind::Admin);
    let daycare = b.admin(&bu, "Dagtilbud", UnitKind::Admin);
    let family = b.admin(&bu, "Børn og Familie", UnitKind::Admin);
    let be = b.admin(root, "Beskæftigelse og Integration", UnitKind::Directorate);
    let jobcentre = b.admin(&be, &format!("Jobcenter {}", b.k.name), UnitKind::Admin);
    let tm = b.admin(root, "Teknik og Miljø", UnitKind::Directorate);
    let technical = b.admin(&tm, "Drift og Anlæg", UnitKind::Admin);
    let kf = b.admin(root, "Kultur og Fritid", UnitKind::Directorate);
    let culture = b.admin(&kf, &format!("{} Bibliotekerne", b.k.name), UnitKind::Admin);
    let central = b.admin(root, "Økonomi og Personale", UnitKind::Directorate);
    b.admin(root, "Borgerservice", UnitKind::Directorate);
    (AdminDirs { schools, daycare, family, jobcentre, technical, culture, central }, bu)
}
