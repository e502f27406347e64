//! FK-ORG users (role holders) with memberships of units, titles, function types and phone
//! numbers: landline only, mobile only, both or neither, and a few malformed numbers.

use rand::Rng;
use rand_chacha::ChaCha8Rng;

use super::names::{self, pick};
use super::{DifferenceStats, GeneratorConfig, Municipality, UnitKind, UnitMeta};
use crate::domain::fkorg::roles;
use crate::domain::{FkMembership, FkStatus, FkUnit, FkUser, FkUuid};

const MOBILE_PREFIXES: &[&str] = &[
    "20", "21", "22", "23", "24", "25", "26", "27", "28", "29", "30", "31", "40", "41", "42", "50", "51", "52", "53",
    "60", "61", "71", "81", "91", "93",
];

const MALFORMED: &[&str] = &[
    "1234",
    "ring til receptionen",
    "+46 70 123 45 67",
    "0",
    "33 66 33",
    "tlf. via afdelingen",
    "xx xx xx xx",
    "4545454545",
];

fn title_for<R: Rng>(rng: &mut R, kind: UnitKind) -> &'static str {
    let pool: &[&str] = match kind {
        UnitKind::CareHome | UnitKind::CareSection | UnitKind::HomeCareDistrict | UnitKind::HomeCareGroup => {
            &["Social- og sundhedsassistent", "Social- og sundhedshjælper", "Sygeplejerske", "Ergoterapeut"]
        }
        UnitKind::Nursing | UnitKind::NursingClinic | UnitKind::AcuteTeam => {
            &["Sygeplejerske", "Akutsygeplejerske", "Social- og sundhedsassistent"]
        }
        UnitKind::Rehabilitation => &["Fysioterapeut", "Ergoterapeut", "Træningsassistent"],
        UnitKind::HealthVisitors => &["Sundhedsplejerske"],
        UnitKind::Dental | UnitKind::DentalClinic => &["Tandlæge", "Tandplejer", "Klinikassistent"],
        UnitKind::Residential | UnitKind::Addiction => &["Pædagog", "Socialrådgiver", "Behandler", "Sygeplejerske"],
        UnitKind::School => &["Lærer", "Pædagog", "Skolesekretær"],
        UnitKind::Daycare => &["Pædagog", "Pædagogmedhjælper", "Dagplejer"],
        UnitKind::CareService => &["Ernæringsassistent", "Aktivitetsmedarbejder"],
        _ => &["Konsulent", "Specialkonsulent", "Administrativ medarbejder", "Sagsbehandler", "Chefkonsulent"],
    };
    pick(rng, pool)
}

fn format_number<R: Rng>(rng: &mut R, n: &str) -> String {
    if n.len() != 8 {
        return n.to_string();
    }
    match rng.gen_range(0..6) {
        0..=2 => n.to_string(),
        3 => format!("+45 {} {} {} {}", &n[0..2], &n[2..4], &n[4..6], &n[6..8]),
        4 => format!("{} {} {} {}", &n[0..2], &n[2..4], &n[4..6], &n[6..8]),
        _ => format!("+45{n}"),
    }
}

/// The users of one municipality. Only active units get members.
pub(crate) fn users(
    rng: &mut ChaCha8Rng,
    cfg: &GeneratorConfig,
    k: &Municipality,
    units: &[FkUnit],
    meta: &[UnitMeta],
    stats: &mut DifferenceStats,
) -> Vec<FkUser> {
    let active: Vec<usize> = (0..units.len()).filter(|&i| units[i].status == FkStatus::Aktiv).collect();
    if active.is_empty() {
        return Vec::new();
    }
    let r = &cfg.users;
    let n = (units.len() as f64 * r.users_per_unit).round() as usize;
    let domain = k.mail_domain();
    let works_in = FkUuid::parse(roles::FUNCTION_WORKS_IN).ok();
    let manager = FkUuid::parse(roles::FUNCTION_MANAGER).ok();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let uuid = FkUuid::from_uuid(uuid::Builder::from_random_bytes(rng.gen()).into_uuid());
        let first = pick(rng, names::FIRST_NAMES);
        let last = pick(rng, names::LAST_NAMES);
        let person_name = if rng.gen_bool(0.25) {
            format!("{first} {} {last}", pick(rng, names::MIDDLE_NAMES))
        } else {
            format!("{first} {last}")
        };
        let initials: String = names::ascii_fold(first)
            .chars()
            .take(2)
            .chain(names::ascii_fold(last).chars().take(2))
            .collect::<String>()
            .to_lowercase();
        let brugernavn = format!("{initials}{}", 1000 + i);

        let roll: f64 = rng.gen();
        let (has_landline, has_mobile) = if roll < r.landline_only {
            stats.users_landline_only += 1;
            (true, false)
        } else if roll < r.landline_only + r.mobile_only {
            stats.users_mobile_only += 1;
            (false, true)
        } else if roll < r.landline_only + r.mobile_only + r.both {
            stats.users_both += 1;
            (true, true)
        } else {
            stats.users_neither += 1;
            (false, false)
        };
        let number = |rng: &mut ChaCha8Rng, prefix: &str, stats: &mut DifferenceStats| {
            if rng.gen::<f64>() < r.malformed {
                stats.users_malformed_number += 1;
                pick(rng, MALFORMED).to_string()
            } else {
                let n = format!("{prefix}{:06}", rng.gen_range(0..1_000_000));
                format_number(rng, &n)
            }
        };
        let landline = has_landline.then(|| {
            let prefix = pick(rng, k.region().landline_prefixes());
            number(rng, prefix, stats)
        });
        let mobile = has_mobile.then(|| {
            let prefix = pick(rng, MOBILE_PREFIXES);
            number(rng, prefix, stats)
        });
        let email = rng.gen_bool(0.92).then(|| format!("{brugernavn}@{domain}"));

        let n_memberships = if rng.gen::<f64>() < r.second_membership { 2 } else { 1 };
        let mut memberships = Vec::with_capacity(n_memberships);
        for _ in 0..n_memberships {
            let unit = active[rng.gen_range(0..active.len())];
            let is_manager = rng.gen::<f64>() < r.manager;
            let (title, function_type, function_type_title) = if is_manager {
                (pick(rng, &["Leder", "Afdelingsleder", "Centerleder", "Teamleder"]), manager, "Leder")
            } else {
                (title_for(rng, meta[unit].kind), works_in, "Arbejder i")
            };
            memberships.push(FkMembership {
                uuid: Some(FkUuid::from_uuid(uuid::Builder::from_random_bytes(rng.gen()).into_uuid())),
                title: Some(title.to_string()),
                function_type,
                function_type_title: Some(function_type_title.to_string()),
                unit: Some(units[unit].uuid),
            });
        }
        out.push(FkUser {
            uuid,
            brugernavn,
            person_name: Some(person_name),
            status: FkStatus::Aktiv,
            email,
            mobile,
            landline,
            memberships,
        });
    }
    out
}
