//! The health side of a generated municipality: units in FK-ORG and (normally) in SOR, with the
//! differences between them, SOR-only units and private providers.

use chrono::NaiveDate;
use rand::seq::SliceRandom;
use rand::Rng;

use super::*;

impl Builder<'_> {
    /// A health-relevant unit: in FK-ORG and (normally) in SOR.
    pub(super) fn health(&mut self, parent: &Node, spec: Spec) -> Node {
        let place = if spec.own_place {
            self.new_place(spec.town.clone())
        } else {
            let mut p = parent.place.clone();
            if chance(&mut self.rng, 0.3) {
                p.phone = self.landline();
            }
            p
        };
        let mut in_sor = !parent.blocked;
        let mut blocked = parent.blocked;
        // a level SOR leaves out: not wanted in SOR, its children still are
        let mut level_left_out = false;
        if in_sor && spec.group && chance(&mut self.rng, self.rates.flatten) {
            in_sor = false;
            level_left_out = true;
            self.stats.flattened_fk_units += 1;
        } else if in_sor && spec.may_be_new && chance(&mut self.rng, self.rates.fk_without_sor) {
            in_sor = false;
            blocked = true;
        } else if in_sor && spec.skippable && self.rough_chance(|r| r.skip_level) {
            in_sor = false;
            level_left_out = true;
            self.rough_stats.skipped_level += 1;
        }
        if blocked {
            self.stats.fk_without_sor += 1;
        }
        let mut closed_fk = parent.closed_fk;
        let mut closed_sor = parent.closed_sor;
        if closed_fk.is_none() && in_sor && spec.may_close && chance(&mut self.rng, self.rates.closed_fk) {
            let day = self.past(3, 150);
            closed_fk = Some(day);
            if chance(&mut self.rng, 1.0 / 3.0) {
                closed_sor = Some(day);
            }
        }
        if closed_fk.is_some() {
            self.stats.closed_fk += 1;
        }

        let mut fk_name = spec.name.render();
        if names::has_danish_letters(&fk_name) && chance(&mut self.rng, self.rates.ascii_letters / 3.0) {
            fk_name = names::ascii_fold(&fk_name);
            self.stats.ascii_letters += 1;
        }
        if spec.generic && self.rough_chance(|r| r.fk_context_name) {
            fk_name = format!("{} {fk_name}", parent.proper);
            self.rough_stats.fk_context_name += 1;
        }
        let mut u = self.bare_fk(fk_name.clone(), Some(self.fk[parent.fk].uuid));
        if let Some(day) = closed_fk {
            self.close_fk(&mut u, day);
        }
        if spec.own_place || chance(&mut self.rng, 0.4) {
            u.postal_address = Some(self.fk_address_text(&place));
            if self.rough_chance(|r| r.missing_fk_address) {
                u.postal_address = None;
                self.rough_stats.missing_fk_address += 1;
            }
        }
        if spec.own_place || place.phone != parent.place.phone || chance(&mut self.rng, 0.3) {
            let phone = place.phone.clone();
            u.landline = Some(self.fk_phone_text(&phone));
            if self.rough_chance(|r| r.missing_fk_phone) {
                u.landline = None;
                self.rough_stats.missing_fk_phone += 1;
            }
        }
        if chance(&mut self.rng, 0.08) {
            u.mobile = Some(format!("2{:07}", self.rng.gen_range(0..10_000_000)));
        }
        if spec.own_place {
            u.email = Some(self.email_for(&spec.name.render()));
        }

        let mut sor_id = parent.sor;
        let mut sor_proper = None;
        if in_sor {
            let parent_name = parent.sor_proper.as_deref().unwrap_or(parent.proper.as_str());
            let generic_parent = spec.generic.then_some(parent_name);
            let official = self.k.official_name();
            let mut sor_name = spec.name.clone();
            if spec.own_place && spec.name.type_word.is_some() && self.rough_chance(|r| r.renamed) {
                sor_name.proper = self.places.take();
                sor_proper = Some(sor_name.proper.clone());
                self.rough_stats.renamed += 1;
            }
            let name_rates = if spec.generic && parent.context_in_sor {
                names::NameRates { generic_parent_prefix: 1.0, ..self.name_rates }
            } else {
                self.name_rates
            };
            let (name, d) =
                names::sor_variant(&mut self.rng, &sor_name, self.k.name, &official, generic_parent, &name_rates);
            self.count_name_diffs(d);
            let mut sor_parent = parent.sor;
            if spec.own_place && self.rough_chance(|r| r.moved) {
                if let Some(up) = self.sor_grandparent(parent.sor) {
                    sor_parent = up;
                    self.rough_stats.moved += 1;
                }
            }
            let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(sor_parent), spec.unit_type);
            if !spec.generic && chance(&mut self.rng, self.rates.sor_own_ean) {
                s.own.ean = Some(self.next_ean());
                self.stats.sor_own_ean += 1;
            } else if chance(&mut self.rng, self.rates.sor_ean_inherited) {
                s.own.ean_inherited_indicator = true;
                self.stats.sor_inherited_ean += 1;
            }
            if spec.own_place || !chance(&mut self.rng, self.rates.sor_address_inherited) {
                let mut address = place.address();
                if self.rough_chance(|r| r.street_abbreviation_sor) {
                    if let Some(street) = abbreviate_street(&address.street) {
                        address.street = street;
                        self.rough_stats.street_abbreviation_sor += 1;
                    }
                }
                s.own.postal = Some(address);
                if self.rough_chance(|r| r.missing_sor_address) {
                    s.own.postal = None;
                    self.rough_stats.missing_sor_address += 1;
                }
            } else {
                self.stats.sor_inherited_address += 1;
            }
            if place.phone != parent.place.phone || !chance(&mut self.rng, self.rates.sor_address_inherited) {
                s.own.phone = Some(place.phone.clone());
                if self.rough_chance(|r| r.missing_sor_phone) {
                    s.own.phone = None;
                    self.rough_stats.missing_sor_phone += 1;
                }
            }
            if spec.own_place && chance(&mut self.rng, 0.5) {
                s.own.email = u.email.clone();
            }
            s.to_date = closed_sor;
            if closed_sor.is_some() {
                self.stats.closed_sor += 1;
            }
            sor_id = s.sor_id;
            if chance(&mut self.rng, self.rates.fk_carries_sor_id) {
                u.sor_id = Some(s.sor_id);
                self.stats.fk_with_sor_id += 1;
            }
            if s.own.ean.is_some() && chance(&mut self.rng, self.rates.fk_carries_ean) {
                u.ean = s.own.ean;
                self.stats.fk_with_ean += 1;
            }
            self.truth.push((u.uuid, s.sor_id));
            self.sor.push(s);
        }
        let wanted = !level_left_out && closed_fk.is_none();
        let idx = self.push_fk(u, spec.kind, true);
        self.meta[idx].wanted_in_sor = wanted;
        Node {
            fk: idx,
            sor: sor_id,
            place,
            proper: if spec.name.proper.is_empty() { fk_name } else { spec.name.proper.clone() },
            sor_proper,
            context_in_sor: level_left_out && self.rough.is_some(),
            blocked,
            closed_fk,
            closed_sor,
        }
    }

    /// The parent of SOR unit `id` when it is an OE or SI (a unit moved up one level stays
    /// under the municipality's health institution).
    pub(super) fn sor_grandparent(&self, id: SorId) -> Option<SorId> {
        let unit = self.sor.iter().rev().find(|u| u.sor_id == id)?;
        if unit.kind != SorKind::OrganizationalUnit {
            return None;
        }
        unit.parent
    }

    /// A SOR level the FK-ORG tree lacks (rough profile): a SOR-only OE under `parent`'s
    /// counterpart; units created under the returned node sit under it in SOR.
    pub(super) fn extra_sor_level(&mut self, parent: &Node, name: String) -> Node {
        let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(parent.sor), codes::UNIT_TYPE_ADMINISTRATIVE);
        s.own.ean_inherited_indicator = true;
        let id = s.sor_id;
        self.sor.push(s);
        self.rough_stats.extra_sor_level += 1;
        Node { sor: id, ..parent.clone() }
    }

    pub(super) fn count_name_diffs(&mut self, d: names::NameDiffs) {
        let s = &mut self.stats;
        s.synonym += u32::from(d.synonym);
        s.word_order += u32::from(d.word_order);
        s.abbreviation += u32::from(d.abbreviation);
        s.municipality_suffix += u32::from(d.municipality_suffix);
        s.ascii_letters += u32::from(d.ascii_letters);
        s.case += u32::from(d.case);
        s.typo += u32::from(d.typo);
        s.generic_parent_prefix += u32::from(d.parent_prefix);
    }

    /// A unit that exists only in SOR, optionally closed long ago.
    pub(super) fn sor_only(&mut self, parent: SorId, name: String, closed: Option<NaiveDate>) -> SorId {
        let place = self.new_place(None);
        let mut s = self.bare_sor(SorKind::OrganizationalUnit, name, Some(parent), codes::UNIT_TYPE_CLINICAL);
        s.own.postal = Some(place.address());
        s.own.phone = Some(place.phone);
        s.to_date = closed;
        if let (Some(to), Some(from)) = (closed, s.from_date) {
            if from >= to {
                s.from_date = Some(to - Duration::days(900));
                s.first_from_date = s.from_date;
            }
            s.updated_at = Some(to);
        }
        let id = s.sor_id;
        self.sor.push(s);
        id
    }

    /// An FK-ORG unit whose counterpart is a SOR health institution (SI) under the IE.
    pub(super) fn institution(&mut self, parent: &Node, fk_name: &str, si_name: &str, kind: UnitKind) -> Node {
        let place = self.new_place(None);
        let mut u = self.bare_fk(fk_name.to_string(), Some(self.fk[parent.fk].uuid));
        u.postal_address = Some(self.fk_address_text(&place));
        let phone = place.phone.clone();
        u.landline = Some(self.fk_phone_text(&phone));
        let mut si =
            self.bare_sor(SorKind::HealthInstitution, si_name.to_string(), Some(parent.sor), codes::INSTITUTION_TYPE);
        si.own.ean = Some(self.next_ean());
        si.own.postal = Some(place.address());
        si.own.phone = Some(place.phone.clone());
        self.truth.push((u.uuid, si.sor_id));
        let sor = si.sor_id;
        self.sor.push(si);
        let idx = self.push_fk(u, kind, true);
        Node {
            fk: idx,
            sor,
            place,
            proper: fk_name.to_string(),
            sor_proper: None,
            context_in_sor: false,
            blocked: false,
            closed_fk: None,
            closed_sor: None,
        }
    }

    pub(super) fn care_homes(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let group = self.health(dir, Spec::group("Plejecentre", UnitKind::HealthGroup));
        // an extra SOR level below the group's counterpart (not where SOR leaves the group out:
        // there the extra level would be the group's counterpart under another name)
        let group = if group.sor != dir.sor && self.rough_chance(|r| r.extra_sor_level) {
            let name = pick(&mut self.rng, &["Ældreområdet", "Drift og Udvikling", "Område Pleje"]);
            self.extra_sor_level(&group, name.to_string())
        } else {
            group
        };
        let mut parents = vec![group.clone()];
        if budget > 80 {
            parents.clear();
            let n = (budget / 60).clamp(2, 8);
            for area in names::COMPASS.iter().take(n) {
                parents.push(self.health(&group, Spec::group(&format!("Område {area}"), UnitKind::HealthGroup)));
            }
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let parent = parents[i % parents.len()].clone();
            let mut name = UnitName::typed("Plejecenter", self.places.take());
            name.proper_first = chance(&mut self.rng, 0.1);
            let home = self.health(&parent, Spec::place(name, UnitKind::CareHome, None).clinical());
            let sections = self.rng.gen_range(2..=4);
            for s in 0..sections {
                let n = format!("Afsnit {}", (b'A' + s as u8) as char);
                self.health(&home, Spec::generic(&n, UnitKind::CareSection));
            }
            for team in ["Team Aften", "Team Nat"] {
                if chance(&mut self.rng, 0.5) {
                    self.health(&home, Spec::generic(team, UnitKind::CareSection));
                }
            }
            if chance(&mut self.rng, 0.25) {
                self.health(&home, Spec::new(UnitName::plain("Demensafsnittet"), UnitKind::CareSection).clinical());
            }
            if chance(&mut self.rng, 0.4) {
                let kitchen = self.rough_name("Køkkenet".into(), "Køkken".into());
                self.fk_only(&home, &kitchen, UnitKind::CareService, true);
            }
            if chance(&mut self.rng, 0.3) {
                self.fk_only(&home, "Aktivitetscentret", UnitKind::CareService, true);
            }
            i += 1;
        }
        if let Some(r) = self.rough.clone() {
            let n = round_random(&mut self.rng, i as f64 * r.new_under_admin_per_100 / 100.0).max(1);
            for _ in 0..n {
                self.new_care_home_under_admin(dir);
            }
        }
    }

    /// A genuinely new care home that FK-ORG already has, under an administrative unit (a building
    /// project) that SOR does not have: the care home and its sections are creates, the project is not.
    pub(super) fn new_care_home_under_admin(&mut self, dir: &Node) {
        let project = pick(
            &mut self.rng,
            &["Byggeprojekt Nye Plejeboliger", "Ældreboliger under opførelse", "Projekt Fremtidens Plejecenter"],
        );
        let admin = self.fk_only(dir, project, UnitKind::Admin, true);
        let name = UnitName::typed("Plejecenter", self.places.take());
        let home = self.health(&admin, Spec::place(name, UnitKind::CareHome, None).clinical().fixed());
        for n in ["Afsnit A", "Afsnit B"] {
            self.health(&home, Spec::generic(n, UnitKind::CareSection).fixed());
        }
        self.rough_stats.new_under_admin += 1;
    }

    pub(super) fn home_care(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let hp = self.health(dir, Spec::group("Hjemmeplejen", UnitKind::HealthGroup));
        self.home_care = Some(hp.clone());
        let hp_sor = if hp.sor != dir.sor && self.rough_chance(|r| r.extra_sor_level) {
            let name = pick(&mut self.rng, &["Udførerområdet", "Leverandørområdet", "Drift og Udvikling"]);
            self.extra_sor_level(&hp, name.to_string())
        } else {
            hp.clone()
        };
        self.fk_only(&hp, "Visitationen", UnitKind::Admin, true);
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let d = self.district();
            let town = (!names::COMPASS.contains(&d.as_str())).then(|| d.clone());
            let district = self.health(
                &hp_sor,
                Spec::place(UnitName::typed("Hjemmepleje", d), UnitKind::HomeCareDistrict, town).skippable(),
            );
            for g in 1..=self.rng.gen_range(2..=4) {
                let name = self.rough_name(format!("Gruppe {g}"), format!("Team {g}"));
                self.health(&district, Spec::generic(&name, UnitKind::HomeCareGroup));
            }
            for team in ["Team Aften", "Team Nat"] {
                if chance(&mut self.rng, 0.6) {
                    self.health(&district, Spec::generic(team, UnitKind::HomeCareGroup));
                }
            }
            i += 1;
        }
    }

    pub(super) fn nursing(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let hs = self.health(dir, Spec::new(UnitName::plain("Hjemmesygeplejen"), UnitKind::Nursing).clinical());
        let acute = self.health(
            &hs,
            Spec::place(UnitName::typed("Akutteam", self.k.name), UnitKind::AcuteTeam, None).clinical().fixed(),
        );
        for team in ["Team Dag", "Team Aften", "Team Nat"] {
            if chance(&mut self.rng, 0.5) {
                self.health(&acute, Spec::generic(team, UnitKind::AcuteTeam));
            }
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let town = pick(&mut self.rng, names::TOWNS).to_string();
            if i % 2 == 0 {
                let name = UnitName::typed("Sygeplejeklinik", town.clone());
                self.health(&hs, Spec::place(name, UnitKind::NursingClinic, Some(town)).clinical());
            } else {
                let d = self.district();
                let name = UnitName::typed("Hjemmesygepleje", d);
                let district = self.health(&hs, Spec::place(name, UnitKind::Nursing, None).clinical().skippable());
                for team in ["Team Dag", "Team Aften"] {
                    self.health(&district, Spec::generic(team, UnitKind::Nursing));
                }
            }
            i += 1;
        }
    }

    pub(super) fn rehabilitation(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let tr = self.health(dir, Spec::group("Træning og Rehabilitering", UnitKind::HealthGroup));
        self.health(&tr, Spec::new(UnitName::plain("Hjerneskadeteamet"), UnitKind::Rehabilitation).clinical());
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            if i % 3 == 2 {
                let name = UnitName::typed("Aflastningspladser", self.places.take());
                self.health(&tr, Spec::place(name, UnitKind::Rehabilitation, None).clinical());
            } else {
                let town = pick(&mut self.rng, names::TOWNS).to_string();
                let name = UnitName::typed("Genoptræningscenter", town.clone());
                let c = self.health(&tr, Spec::place(name, UnitKind::Rehabilitation, Some(town)).clinical());
                if chance(&mut self.rng, 0.5) {
                    self.health(&c, Spec::generic("Team Genoptræning", UnitKind::Rehabilitation));
                }
            }
            i += 1;
        }
    }

    pub(super) fn health_visitors(&mut self, parent: &Node, budget: usize) {
        let start = self.sor.len();
        let sp = self.health(
            parent,
            Spec::place(UnitName::plain("Sundhedsplejen"), UnitKind::HealthVisitors, None).clinical().fixed(),
        );
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let d = self.district();
            self.health(&sp, Spec::new(UnitName::typed("Sundhedsplejen", d), UnitKind::HealthVisitors).clinical());
            i += 1;
        }
    }

    pub(super) fn dental(&mut self, dental: &Node, budget: usize) {
        let start = self.sor.len();
        self.health(dental, Spec::new(UnitName::plain("Specialtandplejen"), UnitKind::DentalClinic).clinical());
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let school = format!("{}skolen", pick(&mut self.rng, names::PLACE_PREFIXES));
            let name = UnitName::typed("Tandklinik", school);
            self.health(dental, Spec::place(name, UnitKind::DentalClinic, None).clinical());
            i += 1;
        }
    }

    pub(super) fn residential(&mut self, dir: &Node, budget: usize) {
        let start = self.sor.len();
        let sp = self.health(dir, Spec::group("Socialpsykiatri og Handicap", UnitKind::HealthGroup));
        let rc = self.health(
            &sp,
            Spec::place(UnitName::typed("Rusmiddelcenter", self.k.name), UnitKind::Addiction, None).clinical(),
        );
        for n in ["Alkoholbehandling", "Stofbehandling", "Ungeindsats"] {
            self.health(&rc, Spec::new(UnitName::plain(n), UnitKind::Addiction).clinical());
        }
        let mut i = 0;
        while i == 0 || (self.sor.len() - start < budget && i < budget * 2 + 2) {
            let name = UnitName::typed("Botilbud", self.places.take());
            let b = self.health(&sp, Spec::place(name, UnitKind::Residential, None));
            if chance(&mut self.rng, 0.5) {
                for a in ["Afdeling 1", "Afdeling 2"] {
                    self.health(&b, Spec::generic(a, UnitKind::Residential));
                }
            }
            i += 1;
        }
    }

    /// Units that exist only in SOR, and old units closed in SOR long ago.
    pub(super) fn sor_extras(&mut self, si: SorId, n_only: usize, n_closed: usize) {
        const ONLY: &[&str] = &[
            "Udskrivningskoordinatorer",
            "Hospitalsforbindelse",
            "Kommunal akutfunktion på sygehuset",
            "Demenskoordinatorer",
            "Forløbskoordination",
            "Sygeplejeklinik ved lægehuset",
            "Hjælpemiddeldepot",
            "Kommunikationsenhed (EDI)",
            "Sårklinik",
            "Lungeteam",
            "Diabetesteam",
            "Tværsektorielt team",
        ];
        for i in 0..n_only {
            let base = ONLY[i % ONLY.len()];
            let name = match i / ONLY.len() {
                0 if i % 3 == 1 => format!("{base} {}", self.k.name),
                0 => base.to_string(),
                r => format!("{base} {}", r + 1),
            };
            self.sor_only(si, name, None);
            self.stats.sor_only += 1;
        }
        for _ in 0..n_closed {
            let to = self.past(200, 3_000);
            let name = format!(
                "{} {}",
                pick(&mut self.rng, &["Plejecenter", "Plejehjemmet", "Ældrecenter"]),
                self.places.take()
            );
            let id = self.sor_only(si, name, Some(to));
            self.stats.closed_sor += 1;
            if chance(&mut self.rng, 0.4) {
                self.sor_only(id, "Afsnit A".to_string(), Some(to));
                self.stats.closed_sor += 1;
            }
        }
    }

    /// Private providers: their own IE (private owner) with SI and OEs; some also in FK-ORG.
    pub(super) fn private_providers(&mut self, n_units: usize) {
        if n_units == 0 {
            return;
        }
        let n_providers = n_units.div_ceil(4).clamp(1, 4);
        let mut pool: Vec<&str> = names::PRIVATE_PROVIDERS.to_vec();
        pool.shuffle(&mut self.rng);
        let mut made = 0;
        for (p, provider) in pool.iter().cycle().take(n_providers).enumerate() {
            let share = (n_units - made) / (n_providers - p);
            let place = self.new_place(None);
            let mut ie =
                self.bare_sor(SorKind::InstitutionOwner, format!("{provider} ApS"), None, codes::OWNER_TYPE_PRIVATE);
            ie.own.postal = Some(place.address());
            ie.own.phone = Some(place.phone.clone());
            let ie_id = ie.sor_id;
            self.sor.push(ie);
            let mut si = self.bare_sor(
                SorKind::HealthInstitution,
                provider.to_string(),
                Some(ie_id),
                codes::INSTITUTION_TYPE_PRIVATE,
            );
            si.own.ean = Some(self.next_ean());
            let si_id = si.sor_id;
            self.sor.push(si);
            made += 2;
            let mut oe = self.bare_sor(
                SorKind::OrganizationalUnit,
                format!("{provider}, {}", self.k.name),
                Some(si_id),
                codes::UNIT_TYPE_CLINICAL,
            );
            oe.own.ean_inherited_indicator = true;
            let oe_id = oe.sor_id;
            self.sor.push(oe);
            made += 1;
            self.stats.private_sor_units += 3;
            for t in 0..share.saturating_sub(3) {
                let d = names::COMPASS[t % names::COMPASS.len()];
                self.sor_only(oe_id, format!("Team {d}"), None);
                self.stats.private_sor_units += 1;
                made += 1;
            }
            if let Some(hp) = self.home_care.clone() {
                if chance(&mut self.rng, self.rates.private_in_fkorg) {
                    let name = if self.rng.gen_bool(0.5) {
                        format!("Privat leverandør - {provider}")
                    } else {
                        format!("{provider} (privat)")
                    };
                    let mut u = self.bare_fk(name, Some(self.fk[hp.fk].uuid));
                    let phone = place.phone.clone();
                    u.landline = Some(self.fk_phone_text(&phone));
                    self.truth.push((u.uuid, oe_id));
                    self.push_fk(u, UnitKind::PrivateProvider, true);
                    self.stats.private_fk_units += 1;
                }
            }
        }
    }
}
