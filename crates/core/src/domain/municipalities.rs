//! The 98 Danish municipalities (real names and kommunekoder, approximate populations, the main
//! town's postcode), plus KOMBIT's test municipality Korsbæk, as data for the generator.

use crate::domain::Cvr;

/// The five regions; the SOR EAN `RegionCode` of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    Hovedstaden,
    Sjaelland,
    Syddanmark,
    Midtjylland,
    Nordjylland,
}

impl Region {
    /// The SOR region code (1081..1085) used in `EanLocationCodeEntity/RegionCode`.
    pub fn sor_region_code(self) -> u32 {
        match self {
            Region::Nordjylland => 1081,
            Region::Midtjylland => 1082,
            Region::Syddanmark => 1083,
            Region::Hovedstaden => 1084,
            Region::Sjaelland => 1085,
        }
    }
    /// The first digit(s) landline numbers in the region tend to start with.
    pub fn landline_prefixes(self) -> &'static [&'static str] {
        match self {
            Region::Hovedstaden => &["33", "35", "36", "38", "39", "43", "44", "45", "48"],
            Region::Sjaelland => &["46", "55", "56", "57", "58", "59"],
            Region::Syddanmark => &["62", "63", "64", "65", "66", "73", "74", "75", "76"],
            Region::Midtjylland => &["86", "87", "89", "96", "97"],
            Region::Nordjylland => &["96", "98", "99"],
        }
    }
}

/// One municipality as the generator needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Municipality {
    /// Kommunekode, e.g. 101.
    pub code: u16,
    /// The short name with Danish letters, e.g. "Næstved".
    pub name: &'static str,
    /// Approximate inhabitants (2024), used only for the size of the generated trees.
    pub population: u32,
    /// Postcode and name of the main town.
    pub postcode: &'static str,
    pub town: &'static str,
}

/// KOMBIT's test municipality in its examples: Korsbæk, CVR 11111111. We give it kommunekode 999.
pub const KORSBAEK: Municipality =
    Municipality { code: 999, name: "Korsbæk", population: 1_800, postcode: "4999", town: "Korsbæk" };

/// The four pilot municipalities (København, Aalborg, Faxe, Næstved).
pub const PILOTS: [u16; 4] = [101, 851, 320, 370];

macro_rules! m {
    ($code:expr, $name:expr, $pop:expr, $pc:expr, $town:expr) => {
        Municipality { code: $code, name: $name, population: $pop, postcode: $pc, town: $town }
    };
}

/// All 98 municipalities in kommunekode order.
pub const MUNICIPALITIES: [Municipality; 98] = [
    m!(101, "København", 660_000, "2300", "København S"),
    m!(147, "Frederiksberg", 104_000, "2000", "Frederiksberg"),
    m!(151, "Ballerup", 52_000, "2750", "Ballerup"),
    m!(153, "Brøndby", 39_000, "2605", "Brøndby"),
    m!(155, "Dragør", 14_600, "2791", "Dragør"),
    m!(157, "Gentofte", 75_000, "2820", "Gentofte"),
    m!(159, "Gladsaxe", 70_000, "2860", "Søborg"),
    m!(161, "Glostrup", 24_000, "2600", "Glostrup"),
    m!(163, "Herlev", 30_000, "2730", "Herlev"),
    m!(165, "Albertslund", 28_000, "2620", "Albertslund"),
    m!(167, "Hvidovre", 54_000, "2650", "Hvidovre"),
    m!(169, "Høje-Taastrup", 52_000, "2630", "Taastrup"),
    m!(173, "Lyngby-Taarbæk", 56_000, "2800", "Kongens Lyngby"),
    m!(175, "Rødovre", 41_000, "2610", "Rødovre"),
    m!(183, "Ishøj", 24_000, "2635", "Ishøj"),
    m!(185, "Tårnby", 44_000, "2770", "Kastrup"),
    m!(187, "Vallensbæk", 17_000, "2625", "Vallensbæk"),
    m!(190, "Furesø", 41_500, "3520", "Farum"),
    m!(201, "Allerød", 26_000, "3450", "Allerød"),
    m!(210, "Fredensborg", 41_000, "3480", "Fredensborg"),
    m!(217, "Helsingør", 63_000, "3000", "Helsingør"),
    m!(219, "Hillerød", 52_000, "3400", "Hillerød"),
    m!(223, "Hørsholm", 25_000, "2970", "Hørsholm"),
    m!(230, "Rudersdal", 57_000, "2840", "Holte"),
    m!(240, "Egedal", 44_000, "3650", "Ølstykke"),
    m!(250, "Frederikssund", 46_000, "3600", "Frederikssund"),
    m!(253, "Greve", 51_000, "2670", "Greve"),
    m!(259, "Køge", 62_000, "4600", "Køge"),
    m!(260, "Halsnæs", 31_500, "3300", "Frederiksværk"),
    m!(265, "Roskilde", 90_000, "4000", "Roskilde"),
    m!(269, "Solrød", 23_500, "2680", "Solrød Strand"),
    m!(270, "Gribskov", 41_500, "3200", "Helsinge"),
    m!(306, "Odsherred", 33_000, "4500", "Nykøbing Sj"),
    m!(316, "Holbæk", 72_000, "4300", "Holbæk"),
    m!(320, "Faxe", 37_000, "4640", "Faxe"),
    m!(326, "Kalundborg", 49_000, "4400", "Kalundborg"),
    m!(329, "Ringsted", 35_000, "4100", "Ringsted"),
    m!(330, "Slagelse", 79_000, "4200", "Slagelse"),
    m!(336, "Stevns", 23_000, "4660", "Store Heddinge"),
    m!(340, "Sorø", 30_000, "4180", "Sorø"),
    m!(350, "Lejre", 29_000, "4320", "Lejre"),
    m!(360, "Lolland", 40_000, "4930", "Maribo"),
    m!(370, "Næstved", 83_000, "4700", "Næstved"),
    m!(376, "Guldborgsund", 60_000, "4800", "Nykøbing F"),
    m!(390, "Vordingborg", 45_500, "4760", "Vordingborg"),
    m!(400, "Bornholm", 39_500, "3700", "Rønne"),
    m!(410, "Middelfart", 39_000, "5500", "Middelfart"),
    m!(420, "Assens", 41_000, "5610", "Assens"),
    m!(430, "Faaborg-Midtfyn", 51_500, "5750", "Ringe"),
    m!(440, "Kerteminde", 24_000, "5300", "Kerteminde"),
    m!(450, "Nyborg", 32_000, "5800", "Nyborg"),
    m!(461, "Odense", 207_000, "5000", "Odense C"),
    m!(479, "Svendborg", 59_000, "5700", "Svendborg"),
    m!(480, "Nordfyns", 29_500, "5450", "Otterup"),
    m!(482, "Langeland", 12_000, "5900", "Rudkøbing"),
    m!(492, "Ærø", 6_000, "5970", "Ærøskøbing"),
    m!(510, "Haderslev", 56_000, "6100", "Haderslev"),
    m!(530, "Billund", 27_000, "7190", "Billund"),
    m!(540, "Sønderborg", 74_000, "6400", "Sønderborg"),
    m!(550, "Tønder", 37_000, "6270", "Tønder"),
    m!(561, "Esbjerg", 116_000, "6700", "Esbjerg"),
    m!(563, "Fanø", 3_500, "6720", "Fanø"),
    m!(573, "Varde", 50_000, "6800", "Varde"),
    m!(575, "Vejen", 43_000, "6600", "Vejen"),
    m!(580, "Aabenraa", 59_000, "6200", "Aabenraa"),
    m!(607, "Fredericia", 52_000, "7000", "Fredericia"),
    m!(615, "Horsens", 98_000, "8700", "Horsens"),
    m!(621, "Kolding", 95_000, "6000", "Kolding"),
    m!(630, "Vejle", 120_000, "7100", "Vejle"),
    m!(657, "Herning", 90_000, "7400", "Herning"),
    m!(661, "Holstebro", 59_000, "7500", "Holstebro"),
    m!(665, "Lemvig", 19_500, "7620", "Lemvig"),
    m!(671, "Struer", 21_000, "7600", "Struer"),
    m!(706, "Syddjurs", 43_500, "8400", "Ebeltoft"),
    m!(707, "Norddjurs", 37_000, "8500", "Grenaa"),
    m!(710, "Favrskov", 49_000, "8382", "Hinnerup"),
    m!(727, "Odder", 23_500, "8300", "Odder"),
    m!(730, "Randers", 99_000, "8900", "Randers C"),
    m!(740, "Silkeborg", 98_000, "8600", "Silkeborg"),
    m!(741, "Samsø", 3_700, "8305", "Samsø"),
    m!(746, "Skanderborg", 64_000, "8660", "Skanderborg"),
    m!(751, "Aarhus", 360_000, "8000", "Aarhus C"),
    m!(756, "Ikast-Brande", 41_500, "7430", "Ikast"),
    m!(760, "Ringkøbing-Skjern", 56_000, "6950", "Ringkøbing"),
    m!(766, "Hedensted", 47_000, "8722", "Hedensted"),
    m!(773, "Morsø", 20_000, "7900", "Nykøbing M"),
    m!(779, "Skive", 46_000, "7800", "Skive"),
    m!(787, "Thisted", 43_000, "7700", "Thisted"),
    m!(791, "Viborg", 97_000, "8800", "Viborg"),
    m!(810, "Brønderslev", 36_000, "9700", "Brønderslev"),
    m!(813, "Frederikshavn", 59_000, "9900", "Frederikshavn"),
    m!(820, "Vesthimmerlands", 36_500, "9600", "Aars"),
    m!(825, "Læsø", 1_800, "9940", "Læsø"),
    m!(840, "Rebild", 30_000, "9530", "Støvring"),
    m!(846, "Mariagerfjord", 42_000, "9500", "Hobro"),
    m!(849, "Jammerbugt", 38_000, "9440", "Aabybro"),
    m!(851, "Aalborg", 220_000, "9000", "Aalborg"),
    m!(860, "Hjørring", 64_000, "9800", "Hjørring"),
];

impl Municipality {
    /// Looks a municipality up by kommunekode (999 is Korsbæk).
    pub fn by_code(code: u16) -> Option<Municipality> {
        if code == KORSBAEK.code {
            return Some(KORSBAEK);
        }
        MUNICIPALITIES.iter().copied().find(|m| m.code == code)
    }

    /// The official name as used for the root unit: "Faxe Kommune", "Københavns Kommune",
    /// "Bornholms Regionskommune".
    pub fn official_name(&self) -> String {
        match self.code {
            101 => "Københavns Kommune".to_string(),
            400 => "Bornholms Regionskommune".to_string(),
            _ => format!("{} Kommune", self.name),
        }
    }

    /// The name as the first part of "`<name>` Kommunale Tandpleje": "Københavns", "Faxe".
    pub fn genitive(&self) -> String {
        match self.code {
            101 => "Københavns".to_string(),
            400 => "Bornholms".to_string(),
            _ => self.name.to_string(),
        }
    }

    pub fn region(&self) -> Region {
        match self.code {
            101..=299 | 400 => Region::Hovedstaden,
            300..=399 | 999 => Region::Sjaelland,
            401..=649 => Region::Syddanmark,
            773 | 787 => Region::Nordjylland,
            650..=799 => Region::Midtjylland,
            _ => Region::Nordjylland,
        }
    }

    /// The municipality's CVR number: FK-ORG is asked for an organisation by it. Korsbæk has
    /// KOMBIT's test number 11111111; the 98 municipalities have their real numbers (public data
    /// of the CVR register), as listed with name and kommunekode in the seed data of the OS2
    /// project GREG (table `greg.d_basis_ansvarlig_myndighed`); København's 64942212, Aarhus'
    /// 55133018 and Frederiksberg's 11259979 agree with other public sources, and every number
    /// passes the modulus-11 check. A kommunekode outside the table gets a synthetic number
    /// that passes the check (derived from the code so that it is stable).
    pub fn cvr(&self) -> Cvr {
        let n = match self.code {
            999 => 11_111_111,
            101 => 64_942_212,
            147 => 11_259_979,
            151 => 58_271_713,
            153 => 65_113_015,
            155 => 12_881_517,
            157 => 19_438_414,
            159 => 62_761_113,
            161 => 65_120_119,
            163 => 63_640_719,
            165 => 66_137_112,
            167 => 55_606_617,
            169 => 19_501_817,
            173 => 11_715_311,
            175 => 65_307_316,
            183 => 11_931_316,
            185 => 20_310_413,
            187 => 19_583_910,
            190 => 29_188_327,
            201 => 60_183_112,
            210 => 29_188_335,
            217 => 64_502_018,
            219 => 29_189_366,
            223 => 70_960_516,
            230 => 29_188_378,
            240 => 29_188_386,
            250 => 29_189_129,
            253 => 44_023_911,
            259 => 29_189_374,
            260 => 29_188_416,
            265 => 29_189_404,
            269 => 68_534_917,
            270 => 29_188_440,
            306 => 29_188_459,
            316 => 29_189_447,
            320 => 29_188_475,
            326 => 29_189_595,
            329 => 18_957_981,
            330 => 29_188_505,
            336 => 29_208_654,
            340 => 29_189_994,
            350 => 29_188_548,
            360 => 29_188_572,
            370 => 29_189_625,
            376 => 29_188_599,
            390 => 29_189_676,
            400 => 26_696_348,
            410 => 29_189_684,
            420 => 29_189_692,
            430 => 29_188_645,
            440 => 29_189_706,
            450 => 29_189_722,
            461 => 35_209_115,
            479 => 29_189_730,
            480 => 29_188_947,
            482 => 29_188_955,
            492 => 28_856_075,
            510 => 29_189_757,
            530 => 29_189_765,
            540 => 29_189_773,
            550 => 29_189_781,
            561 => 29_189_803,
            563 => 31_210_917,
            573 => 29_189_811,
            575 => 29_189_838,
            580 => 29_189_854,
            607 => 69_116_418,
            615 => 29_189_889,
            621 => 29_189_897,
            630 => 29_189_900,
            657 => 29_189_919,
            661 => 29_189_927,
            665 => 29_189_935,
            671 => 29_189_951,
            706 => 29_189_978,
            707 => 29_189_986,
            710 => 29_189_714,
            727 => 32_264_328,
            730 => 29_189_668,
            740 => 29_189_641,
            741 => 23_795_515,
            746 => 29_189_633,
            751 => 55_133_018,
            756 => 29_189_617,
            760 => 29_189_609,
            766 => 29_189_587,
            773 => 41_333_014,
            779 => 29_189_579,
            787 => 29_189_560,
            791 => 29_189_846,
            810 => 29_189_501,
            813 => 29_189_498,
            820 => 29_189_471,
            825 => 45_973_328,
            840 => 29_189_463,
            846 => 29_189_455,
            849 => 29_189_439,
            851 => 29_189_420,
            860 => 29_189_382,
            code => {
                let mut n = 29_100_000 + u32::from(code) * 100;
                loop {
                    let c = Cvr::parse(&n.to_string());
                    if c.is_ok_and(|c| c.passes_modulus11()) {
                        break n;
                    }
                    n += 1;
                }
            }
        };
        Cvr::parse(&n.to_string()).expect("an 8-digit number without a leading zero is a CVR")
    }

    /// The e-mail domain, e.g. "faxe.dk", "kk.dk".
    pub fn mail_domain(&self) -> String {
        match self.code {
            101 => "kk.dk".to_string(),
            _ => format!("{}.dk", ascii_fold(&self.name.to_lowercase()).replace(' ', "")),
        }
    }
}

/// The municipalities for `--municipalities N`: the four pilots first, then the rest in
/// kommunekode order.
pub fn first_n(n: usize) -> Vec<Municipality> {
    let mut order: Vec<Municipality> =
        PILOTS.iter().filter_map(|c| MUNICIPALITIES.iter().copied().find(|m| m.code == *c)).collect();
    order.extend(MUNICIPALITIES.iter().copied().filter(|m| !PILOTS.contains(&m.code)));
    order.truncate(n);
    order
}

/// Writes æ, ø, å as ae, oe, aa (and Æ, Ø, Å as Ae, Oe, Aa), as older systems do.
pub fn ascii_fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 4);
    for c in s.chars() {
        match c {
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            'Æ' => out.push_str("Ae"),
            'Ø' => out.push_str("Oe"),
            'Å' => out.push_str("Aa"),
            'é' => out.push('e'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_98_municipalities_with_unique_codes_and_valid_cvr_numbers() {
        let mut codes: Vec<u16> = MUNICIPALITIES.iter().map(|m| m.code).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), 98);
        for m in MUNICIPALITIES {
            assert!(m.cvr().passes_modulus11(), "{} has CVR {}", m.name, m.cvr());
        }
        assert_eq!(KORSBAEK.cvr().to_string(), "11111111");
    }
}
